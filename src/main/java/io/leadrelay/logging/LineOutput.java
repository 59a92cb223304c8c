package io.leadrelay.logging;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * One log file that only ever ends with whole lines. Each {@link #write} is one complete line; if the disk refuses
 * part of it (full, quota, I/O error), what was written of it is cut off again, so a later line never starts in the
 * middle of this one. Unbuffered: a line is on its way to disk when {@code write} returns, never held back to be
 * written later behind other lines.
 */
final class LineOutput extends OutputStream {

  /** Owner reads and writes, the group (e.g. a log shipper) reads, nobody else: the lines carry personal data. */
  static final Set<PosixFilePermission> FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-r-----");

  /**
   * A RandomAccessFile, not a FileChannel: a channel is closed for good when the thread writing to it is interrupted,
   * and logback's async appender interrupts its writer on stop while it still has lines to write.
   */
  private final RandomAccessFile file;
  /** Where the file ends after the last whole line; past it, only the remains of a failed write. */
  private long wholeLinesEnd;
  private boolean cutPending;

  /**
   * Appends to {@code file}. A file that ends in the middle of a line (cut by an earlier version on a full disk, or by
   * a crash) gets a newline first: that one line stays broken, and the next does not start inside it.
   */
  LineOutput(RandomAccessFile file) throws IOException {
    this.file = file;
    long length = file.length();
    if (length > 0) {
      file.seek(length - 1);
      if (file.read() != '\n') {
        file.write('\n');
        length++;
      }
    }
    this.wholeLinesEnd = length;
    file.seek(wholeLinesEnd);
  }

  /** Opens (creating it 0640 whatever the umask) the file to append to. */
  static LineOutput open(Path path) throws IOException {
    try {
      Files.createFile(path, PosixFilePermissions.asFileAttribute(FILE_PERMISSIONS));
    } catch (FileAlreadyExistsException e) {
      // Appending to the file of an earlier run (or a directory in its place, refused just below).
    } catch (UnsupportedOperationException e) {
      Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND).close();
    }
    if (!Files.isRegularFile(path)) {
      throw new IOException(path + " is not a regular file");
    }
    restrict(path);
    return new LineOutput(new RandomAccessFile(path.toFile(), "rw"));
  }

  /** The umask can only take permissions away, and an older file may have been created 0644: set them exactly. */
  private static void restrict(Path path) throws IOException {
    try {
      Files.setPosixFilePermissions(path, FILE_PERMISSIONS);
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: its own access rules apply.
    }
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  /** Writes one whole line, or nothing: on failure the file is cut back to where the line began. */
  @Override
  public void write(byte[] line, int offset, int length) throws IOException {
    if (cutPending) {
      // An earlier cut failed too; no line may follow the remains of one.
      cutBack();
    }
    followEnd();
    try {
      file.write(line, offset, length);
    } catch (IOException e) {
      try {
        cutBack();
      } catch (IOException cutFailed) {
        cutPending = true;
        e.addSuppressed(cutFailed);
      }
      throw e;
    }
    wholeLinesEnd += length;
  }

  /**
   * Writes at the file's end as it is now, like O_APPEND (which RandomAccessFile cannot ask for): a file emptied from
   * outside ({@code : > webhook.log} on a full disk, logrotate's copytruncate) would otherwise get a hole of NUL
   * bytes up to the old end, and a second relay sharing LOG_DIR would write over this one's lines.
   */
  private void followEnd() throws IOException {
    long end = file.length();
    if (end != wholeLinesEnd) {
      wholeLinesEnd = end;
      file.seek(end);
    }
  }

  private void cutBack() throws IOException {
    file.setLength(wholeLinesEnd);
    file.seek(wholeLinesEnd);
    cutPending = false;
  }

  @Override
  public void close() throws IOException {
    try {
      if (cutPending) {
        cutBack();
      }
    } finally {
      file.close();
    }
  }
}
