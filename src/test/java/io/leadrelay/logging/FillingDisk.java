package io.leadrelay.logging;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A disk with a given number of free bytes, shared by every file opened on it: a write that does not fit writes
 * what fits and then fails with "No space left on device", as {@code write(2)} does on a full file system.
 * Shortening a file frees its bytes again.
 */
final class FillingDisk implements WholeLineFileAppender.Opener {

  private final AtomicLong free;

  FillingDisk(long freeBytes) {
    this.free = new AtomicLong(freeBytes);
  }

  void free(long bytes) {
    free.set(bytes);
  }

  @Override
  public LineOutput open(Path file) throws IOException {
    return new LineOutput(new File(file));
  }

  private final class File extends RandomAccessFile {

    File(Path path) throws IOException {
      super(path.toFile(), "rw");
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      int fits = (int) Math.max(0, Math.min(length, free.get()));
      super.write(bytes, offset, fits);
      free.addAndGet(-fits);
      if (fits < length) {
        throw new IOException("No space left on device");
      }
    }

    @Override
    public void setLength(long newLength) throws IOException {
      free.addAndGet(Math.max(0, length() - newLength));
      super.setLength(newLength);
    }
  }
}
