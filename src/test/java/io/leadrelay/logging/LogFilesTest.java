package io.leadrelay.logging;

import io.leadrelay.config.ConfigException;
import io.leadrelay.config.LogConfig;
import io.leadrelay.logging.LogFiles.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogFilesTest {

  @TempDir
  Path tmp;

  @Test
  void writesEachKindToItsOwnFileInUtf8() throws IOException {
    Path dir = tmp.resolve("logs");
    try (LogFiles files = LogFiles.open(new LogConfig(dir, "10MB", 7, "100MB"))) {
      files.append(Kind.WEBHOOK, "{\"name\":\"Иван 👋\"}");
      files.append(Kind.SUCCESS, "{\"leadId\":1}");
      files.append(Kind.ERROR, "{\"error\":\"bad\"}");
    }

    assertEquals(List.of("{\"name\":\"Иван 👋\"}"), Files.readAllLines(dir.resolve("webhook.log"), StandardCharsets.UTF_8));
    assertEquals(List.of("{\"leadId\":1}"), Files.readAllLines(dir.resolve("success.log")));
    assertEquals(List.of("{\"error\":\"bad\"}"), Files.readAllLines(dir.resolve("error.log")));
  }

  @Test
  void aLogFileDeletedWhileOpenIsMadeAgainInsteadOfWritingIntoTheVoid() throws IOException {
    Path dir = tmp.resolve("logs");
    try (LogFiles files = LogFiles.open(new LogConfig(dir, "10MB", 7, "100MB"))) {
      files.append(Kind.WEBHOOK, "{\"n\":1}");
      Files.delete(dir.resolve("webhook.log"));
      files.append(Kind.WEBHOOK, "{\"n\":2}");
    }

    List<String> lines = Files.readAllLines(dir.resolve("webhook.log"));
    assertEquals("{\"n\":2}", lines.get(lines.size() - 1), lines.toString());
  }

  @Test
  void keepsEveryLineOfALongBurstInOrder() throws IOException {
    int count = 5_000;
    try (LogFiles files = LogFiles.open(new LogConfig(tmp, "10MB", 7, "100MB"))) {
      for (int i = 0; i < count; i++) {
        files.append(Kind.WEBHOOK, "{\"n\":" + i + "}");
      }
    }

    List<String> lines = Files.readAllLines(tmp.resolve("webhook.log"));
    assertEquals(count, lines.size());
    for (int i = 0; i < count; i++) {
      assertEquals("{\"n\":" + i + "}", lines.get(i));
    }
  }

  @Test
  void rollsAtMaxFileSizeWithoutLosingLines() throws IOException {
    int count = 400;
    String padding = "x".repeat(100);
    try (LogFiles files = LogFiles.open(new LogConfig(tmp, "2KB", 7, "10MB"))) {
      for (int i = 0; i < count; i++) {
        files.append(Kind.SUCCESS, "{\"n\":" + i + ",\"pad\":\"" + padding + "\"}");
      }
    }

    // success.<date>.<index>.log, oldest (index 0) first. Logback may let a file grow a little past
    // maxFileSize before rolling it, so the number of files is only bounded loosely: ~48 KB in 2 KB files.
    Pattern rolledName = Pattern.compile("success\\.\\d{4}-\\d{2}-\\d{2}\\.(\\d+)\\.log");
    List<Path> rolled;
    try (Stream<Path> listing = Files.list(tmp)) {
      rolled = listing.filter(p -> rolledName.matcher(p.getFileName().toString()).matches())
          .sorted(Comparator.comparingInt(p -> index(rolledName, p)))
          .toList();
    }
    assertTrue(rolled.size() >= 5, "expected several rolled success.*.log files, got " + rolled);
    List<String> lines = new ArrayList<>();
    for (Path file : rolled) {
      lines.addAll(Files.readAllLines(file));
    }
    lines.addAll(Files.readAllLines(tmp.resolve("success.log")));
    assertEquals(count, lines.size(), "every line is in a rolled file or the active one");
    for (int i = 0; i < count; i++) {
      assertTrue(lines.get(i).startsWith("{\"n\":" + i + ","), "line " + i + " in order: " + lines.get(i));
    }
  }

  @Test
  void refusesAMaxFileSizeThatIsNotASize() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> LogFiles.open(new LogConfig(tmp, "fifty megabytes", 7, "1GB")));
    assertEquals("logs.maxFileSize must be a size such as \"50MB\" (a number with KB, MB or GB), "
        + "not \"fifty megabytes\".", e.getMessage());
  }

  @Test
  void refusesATotalSizeCapThatIsNotASize() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> LogFiles.open(new LogConfig(tmp, "50MB", 7, "1 TB")));
    assertTrue(e.getMessage().startsWith("logs.totalSizeCap must be a size"), e.getMessage());
  }

  @Test
  void refusesATotalSizeCapBelowMaxFileSize() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> LogFiles.open(new LogConfig(tmp, "50MB", 7, "10MB")));
    assertTrue(e.getMessage().startsWith("logs.totalSizeCap (10MB) must be at least logs.maxFileSize (50MB)"),
        e.getMessage());
  }

  @Test
  void failsWithTheDirectoryWhenAFileCannotBeOpened() throws IOException {
    // A directory where webhook.log should be: logback cannot open it, even for root.
    Files.createDirectories(tmp.resolve("webhook.log"));

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LogFiles.open(new LogConfig(tmp, "10MB", 7, "100MB")));
    assertTrue(e.getMessage().startsWith("Cannot write the logs in " + tmp.toAbsolutePath() + ": "), e.getMessage());
  }

  @Test
  void failsWithTheDirectoryWhenItCannotBeCreated() throws IOException {
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "");

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LogFiles.open(new LogConfig(file.resolve("logs"), "10MB", 7, "100MB")));
    assertTrue(e.getMessage().startsWith("Cannot create the log directory " + file.resolve("logs")), e.getMessage());
  }

  private static int index(Pattern rolledName, Path file) {
    Matcher m = rolledName.matcher(file.getFileName().toString());
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }


}
