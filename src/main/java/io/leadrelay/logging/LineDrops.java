package io.leadrelay.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the log lines that could not be written (a full disk, a file that cannot be opened) and says so on the
 * console once when dropping starts and once when lines are written again, not once per line. Shared by the three
 * files of one directory; thread-safe, as each file is written from its own thread.
 */
final class LineDrops {

  private static final Logger LOG = LoggerFactory.getLogger(LogFiles.class);

  private final Path dir;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong droppedThisTime = new AtomicLong();
  private final AtomicBoolean dropping = new AtomicBoolean();
  private volatile String lastError;

  LineDrops(Path dir) {
    this.dir = dir;
  }

  void dropped(String fileName, Exception cause) {
    dropped.incrementAndGet();
    droppedThisTime.incrementAndGet();
    lastError = cause.getClass().getSimpleName();
    if (dropping.compareAndSet(false, true)) {
      LOG.error("Log lines are being dropped in {}: {} could not be written ({}); counting them until writing works"
          + " again", dir, fileName, cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
  }

  void written() {
    if (dropping.compareAndSet(true, false)) {
      long lost = droppedThisTime.getAndSet(0);
      LOG.warn("Log lines are written again in {}; {} line(s) were dropped meanwhile ({} in all since start)", dir,
          lost, dropped.get());
    }
  }

  /** True while the last write of any file failed. */
  boolean dropping() {
    return dropping.get();
  }

  /** Lines dropped since the files were opened. */
  long total() {
    return dropped.get();
  }

  /** The class of the last failure (never its message, which could name more than the health report should). */
  String lastError() {
    return lastError;
  }
}
