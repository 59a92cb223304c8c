package io.leadrelay.store;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Objects;

/**
 * Whether the store can still keep what it is given. Two ways it silently could not: the database file or its
 * write-ahead log was deleted (DATA_DIR removed or replaced while running, or someone "cleaning up" the -wal: SQLite
 * goes on writing to the unlinked file, and all of it is gone at the next start), and commits failing (disk full, I/O errors, a read-only file). The writer checks the file
 * before every batch and reports every batch's outcome here; {@code /health} shows the result as the store part.
 * Written by the writer thread, read by event loops.
 */
final class StoreHealth {

  private final Path file;
  private final Object fileKey;
  private final Path wal;
  private final Object walKey;
  /** The DATA_DIR claim to confirm before every batch; none for stores opened without one (command line, tests). */
  private volatile DataDirectory directory;
  private volatile String failure;
  private volatile Instant failedAt;

  private StoreHealth(Path file, Object fileKey, Path wal, Object walKey) {
    this.file = file;
    this.fileKey = fileKey;
    this.wal = wal;
    this.walKey = walKey;
  }

  /**
   * Watches the file and its write-ahead log as they are now (just opened, in WAL mode). SQLite removes the -wal
   * only when the last connection closes, and resets or truncates it in place, so while the store is open the
   * same -wal must stay there. A log that did not exist when opened is not watched.
   */
  static StoreHealth watching(Path file) {
    Path wal = Path.of(file + "-wal");
    Object walKey = fileKey(wal);
    return new StoreHealth(file, fileKey(file), walKey == null ? null : wal, walKey);
  }

  /** For a writer that has no file to watch (tests of the writer alone). */
  static StoreHealth untracked() {
    return new StoreHealth(null, null, null, null);
  }

  /**
   * Throws when the file the connection writes to is no longer the store's file: deleted, or replaced by another.
   * Nothing committed then would survive a restart, so nothing may be reported as committed.
   */
  void checkFile() {
    if (file == null) {
      return;
    }
    Object now = fileKey(file);
    if (now == null || !Objects.equals(now, fileKey)) {
      throw new FileGone("the store file " + file + " is gone or was replaced while running (was"
          + " DATA_DIR deleted or moved?): nothing written now would survive a restart");
    }
    if (wal != null && !Objects.equals(fileKey(wal), walKey)) {
      throw new FileGone("the store's write-ahead log " + wal + " is gone or was replaced while running (never"
          + " delete the -wal of a running store): nothing written now would survive a restart; stop the relay"
          + " cleanly so that SQLite writes what it holds into the store");
    }
    DataDirectory held = directory;
    if (held != null) {
      held.checkStillHeld();
    }
  }

  /** From now on, every batch first confirms that this process still holds {@code directory}. */
  void heldBy(DataDirectory directory) {
    this.directory = directory;
  }

  /** A batch whose commit went through and wrote something: the store works. */
  void committed() {
    failure = null;
    failedAt = null;
  }

  /** A job or a whole batch failed; only failures of the store itself (not of a caller's bad argument) count. */
  void failed(Throwable e) {
    if (isStoreFailure(e)) {
      failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      failedAt = Instant.now();
    }
  }

  boolean down() {
    return failure != null;
  }

  /** The health part: UP, or DOWN with why and since when. Never payload text: SQLite's messages carry none. */
  JsonObject toJson() {
    String reason = failure;
    Instant since = failedAt;
    if (reason == null) {
      return new JsonObject().put("status", "UP");
    }
    return new JsonObject().put("status", "DOWN").put("reason", "the store cannot commit: " + reason)
        .put("since", since == null ? null : since.toString());
  }

  /**
   * SQLite errors that mean the store cannot keep data (full, I/O, read-only, corrupt, cannot open, not a
   * database), and a vanished file. A constraint or a caller's bad id is not the store's health.
   */
  static boolean isStoreFailure(Throwable e) {
    if (e instanceof FileGone) {
      return true;
    }
    if (!(e instanceof SQLException sql)) {
      return false;
    }
    int primary = sql.getErrorCode() & 0xff;
    return primary == 13 /* FULL */ || primary == 10 /* IOERR */ || primary == 8 /* READONLY */
        || primary == 11 /* CORRUPT */ || primary == 14 /* CANTOPEN */ || primary == 26 /* NOTADB */;
  }

  /** The database file is not where the store opened it any more. */
  static final class FileGone extends IllegalStateException {
    FileGone(String message) {
      super(message);
    }
  }

  private static Object fileKey(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      // (device, inode) where the file system has them; on others, at least that a file is there.
      return attributes.fileKey() != null ? attributes.fileKey() : Boolean.TRUE;
    } catch (IOException e) {
      return null;
    }
  }
}
