package io.leadrelay.logging;

import ch.qos.logback.core.rolling.RollingFileAppender;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * logback's rolling file appender with the file written through a {@link LineOutput}: a line is written whole or
 * not at all, and a line that cannot be written is counted in {@link LineDrops} instead of being lost silently.
 *
 * <p>logback's own output keeps a failed line in its buffer and writes it, or part of it, later (glued to whatever
 * comes next), and stops the appender for good on some failures. Here a failure costs exactly the line that failed;
 * the next line tries again, reopening the file if it had to be closed (a failed rollover).
 */
final class WholeLineFileAppender<E> extends RollingFileAppender<E> {

  /** Opens a log file for appending; replaced in tests by one that fails like a full disk. */
  interface Opener {
    LineOutput open(Path file) throws IOException;
  }

  /** Once a file could not be (re)opened, how long before trying again: not once per line on a broken disk. */
  private static final long REOPEN_EVERY_MS = 1000;

  private final LineDrops drops;
  private final Opener opener;
  private long nextReopenAt;
  /** The identity of the file opened last; another one (or none) at its path means it was deleted or moved. */
  private Object openedKey;

  WholeLineFileAppender(LineDrops drops, Opener opener) {
    this.drops = drops;
    this.opener = opener;
  }

  /** Called by logback on start and after every rollover. */
  @Override
  public void openFile(String fileName) throws IOException {
    streamWriteLock.lock();
    try {
      setOutputStream(opener.open(Path.of(fileName)));
      openedKey = fileKey(Path.of(fileName));
    } finally {
      streamWriteLock.unlock();
    }
  }

  @Override
  protected void writeOut(E event) {
    byte[] line = encoder.encode(event);
    streamWriteLock.lock();
    try {
      if (!isStarted()) {
        return;
      }
      OutputStream out = getOutputStream();
      if (out == null) {
        out = reopen();
      } else if (!Objects.equals(fileKey(Path.of(getFile())), openedKey)) {
        // Deleted or moved away (rm, a log cleaner, LOG_DIR removed): lines written on would go to an unlinked file
        // and be lost unseen. A new file at the path; if that cannot be made, this line counts as dropped.
        openFile(getFile());
        out = getOutputStream();
      }
      out.write(line);
      updateByteCount(line);
      drops.written();
    } catch (IOException | RuntimeException e) {
      drops.dropped(Path.of(getFile()).getFileName().toString(), e);
    } finally {
      streamWriteLock.unlock();
    }
  }

  private static Object fileKey(Path file) {
    try {
      Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      return key != null ? key : Boolean.TRUE;
    } catch (IOException e) {
      return null;
    }
  }

  /** The file is closed after a failed rollover: open it again, at most once a second. */
  private OutputStream reopen() throws IOException {
    long now = System.currentTimeMillis();
    if (now < nextReopenAt) {
      throw new IOException("the file is not open");
    }
    nextReopenAt = now + REOPEN_EVERY_MS;
    openFile(getFile());
    return getOutputStream();
  }
}
