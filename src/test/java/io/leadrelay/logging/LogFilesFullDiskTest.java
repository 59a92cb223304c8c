package io.leadrelay.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.leadrelay.config.LogConfig;
import io.leadrelay.logging.LogFiles.Kind;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A log disk that fills up and frees again: no line is cut or glued, and every lost line is counted and told. */
class LogFilesFullDiskTest {

  private final Logger console = (Logger) LoggerFactory.getLogger(LogFiles.class);
  private final ListAppender<ILoggingEvent> told = new ListAppender<>();

  @TempDir
  Path tmp;

  @BeforeEach
  void listen() {
    told.start();
    console.addAppender(told);
  }

  @AfterEach
  void detach() {
    console.detachAppender(told);
  }

  @Test
  void aLineThatDoesNotFitIsCutBackAndCountedAndTheNextLineStartsClean() throws IOException {
    String first = line(1);
    FillingDisk disk = new FillingDisk(first.getBytes(StandardCharsets.UTF_8).length + 1 + 7); // the first line and 7 bytes of the second
    LogFiles files = LogFiles.open(config(), disk);
    try {
      files.append(Kind.WEBHOOK, first);
      files.append(Kind.WEBHOOK, line(2)); // 7 bytes fit, then the disk is full
      files.append(Kind.WEBHOOK, line(3)); // nothing fits
      files.close(); // drains the queue: every line has been tried
      assertTrue(files.dropping());
      assertEquals(2, files.droppedLines());
    } finally {
      files.close();
    }
    disk.free(1 << 20);
    try (LogFiles reopened = LogFiles.open(config(), disk)) {
      reopened.append(Kind.WEBHOOK, line(4));
      reopened.close();
      assertFalse(reopened.dropping());
      assertEquals(0, reopened.droppedLines());
    }

    List<String> lines = Files.readAllLines(tmp.resolve("webhook.log"), StandardCharsets.UTF_8);
    assertEquals(List.of(first, line(4)), lines);
    lines.forEach(JsonObject::new); // every line parses on its own, as jq reads them
  }

  @Test
  void dropsAreToldOnceWhenTheyStartAndOnceWhenWritingWorksAgain() throws IOException {
    FillingDisk disk = new FillingDisk(0);
    try (LogFiles files = LogFiles.open(config(), disk)) {
      for (int n = 1; n <= 5; n++) {
        files.append(Kind.ERROR, line(n));
      }
      awaitDropped(files, 5);
      disk.free(1 << 20);
      files.append(Kind.ERROR, line(6));
      files.close();
      assertFalse(files.dropping());
      assertEquals(5, files.droppedLines());
    }

    List<String> messages = told.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(2, messages.size(), messages.toString());
    assertTrue(messages.get(0).startsWith("Log lines are being dropped in " + tmp.toAbsolutePath()
        + ": error.log could not be written (IOException: No space left on device)"), messages.get(0));
    assertEquals("Log lines are written again in " + tmp.toAbsolutePath()
        + "; 5 line(s) were dropped meanwhile (5 in all since start)", messages.get(1));
    assertEquals(List.of(line(6)), Files.readAllLines(tmp.resolve("error.log")));
  }

  @Test
  void filesAre0640AndANewDirectory0750WhateverTheUmask() throws IOException {
    Path dir = tmp.resolve("new/logs");
    try (LogFiles files = LogFiles.open(new LogConfig(dir, "10MB", 7, "100MB"))) {
      files.append(Kind.SUCCESS, line(1));
    }

    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    for (Kind kind : Kind.values()) {
      assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(
          dir.resolve(kind.fileName()))), kind.fileName());
    }
  }

  @Test
  void aFileOfAnEarlierRunIsMadePrivateToo() throws IOException {
    Path old = tmp.resolve("success.log");
    Files.writeString(old, line(0) + "\n");
    Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-rw-rw-"));

    try (LogFiles files = LogFiles.open(config())) {
      files.append(Kind.SUCCESS, line(1));
    }

    assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(old)));
    assertEquals(List.of(line(0), line(1)), Files.readAllLines(old));
  }

  @Test
  void aCutLineLeftByAnEarlierRunIsNotContinued() throws IOException {
    Files.writeString(tmp.resolve("webhook.log"), line(0) + "\n{\"n\":1,\"na");

    try (LogFiles files = LogFiles.open(config())) {
      files.append(Kind.WEBHOOK, line(2));
    }

    assertEquals(List.of(line(0), "{\"n\":1,\"na", line(2)), Files.readAllLines(tmp.resolve("webhook.log")));
  }

  private LogConfig config() {
    return new LogConfig(tmp, "10MB", 7, "100MB");
  }

  private static String line(int n) {
    return new JsonObject().put("n", n).put("name", "Иван Петров").encode();
  }

  /** The async queue writes on its own thread: wait (bounded) until it has tried the lines. */
  private static void awaitDropped(LogFiles files, long count) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (files.droppedLines() < count && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    assertEquals(count, files.droppedLines());
  }
}
