package io.leadrelay.logging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Deletes rolled log files ({@code <log>.<yyyy-MM-dd>.<n>.log}) older than {@code maxDays} days, and the oldest ones
 * beyond {@code totalSizeCap} bytes per log. Done here rather than by logback's own clean-up: when files roll faster
 * than it runs (a burst with a small maximum size), logback 1.5 deleted files of the current day, losing lines.
 * Blocking file I/O: call it off the event loop. Never touches the active files.
 */
public final class LogRetention {

  private static final Pattern ROLLED = Pattern.compile("(webhook|success|error)\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)\\.log");

  private record Rolled(Path file, String log, LocalDate day, int index, long size) {
  }

  private LogRetention() {
  }

  /** Applies the limits; returns how many files were deleted. */
  public static int apply(Path dir, int maxDays, long totalSizeCap, LocalDate today) throws IOException {
    List<Rolled> rolled = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Matcher m = ROLLED.matcher(file.getFileName().toString());
        if (m.matches()) {
          rolled.add(new Rolled(file, m.group(1), LocalDate.parse(m.group(2)), Integer.parseInt(m.group(3)),
              Files.size(file)));
        }
      }
    }
    // Newest first, per log: keep while within the age and the size cap, delete the rest.
    rolled.sort(Comparator.comparing(Rolled::log).thenComparing(Rolled::day, Comparator.reverseOrder())
        .thenComparing(Rolled::index, Comparator.reverseOrder()));
    LocalDate oldestKept = today.minusDays(maxDays);
    int deleted = 0;
    String log = null;
    long kept = 0;
    for (Rolled file : rolled) {
      if (!file.log().equals(log)) {
        log = file.log();
        kept = 0;
      }
      kept += file.size();
      if (file.day().isBefore(oldestKept) || kept > totalSizeCap) {
        Files.deleteIfExists(file.file());
        deleted++;
      }
    }
    return deleted;
  }
}
