package io.leadrelay.logging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LogRetentionTest {

  private static final LocalDate TODAY = LocalDate.parse("2026-11-24");

  @TempDir
  Path dir;

  private void file(String name, int bytes) throws IOException {
    Files.write(dir.resolve(name), new byte[bytes]);
  }

  private List<String> names() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void rolledFilesOlderThanMaxDaysGoAndTheActiveFilesStay() throws IOException {
    file("webhook.log", 10);
    file("webhook.2026-11-10.0.log", 10);
    file("webhook.2026-11-17.0.log", 10);
    file("webhook.2026-11-16.3.log", 10);
    file("error.2026-11-01.0.log", 10);
    file("notes.txt", 10);
    assertEquals(3, LogRetention.apply(dir, 7, 1_000_000, TODAY));
    assertEquals(List.of("notes.txt", "webhook.2026-11-17.0.log", "webhook.log"), names());
  }

  @Test
  void beyondTheSizeCapTheOldestGoFirstPerLog() throws IOException {
    file("success.2026-11-24.0.log", 100);
    file("success.2026-11-24.1.log", 100);
    file("success.2026-11-24.10.log", 100);
    file("success.2026-11-23.7.log", 100);
    file("error.2026-11-20.0.log", 100);
    assertEquals(2, LogRetention.apply(dir, 30, 250, TODAY));
    assertEquals(List.of("error.2026-11-20.0.log", "success.2026-11-24.1.log", "success.2026-11-24.10.log"), names(),
        "index 10 is newer than index 1 on the same day; each log has its own cap");
  }
}
