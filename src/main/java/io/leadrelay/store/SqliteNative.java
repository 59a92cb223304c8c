package io.leadrelay.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

/**
 * Where sqlite-jdbc unpacks its native library. By default that is java.io.tmpdir, and every start leaves another
 * copy there when the JVM is killed; under DATA_DIR it stays with the relay's own files. Must run before the driver
 * first loads; an operator's own {@code -Dorg.sqlite.tmpdir} (e.g. because DATA_DIR is mounted noexec) is left as it
 * is. sqlite-jdbc removes an earlier copy only when its {@code .lck} file is gone, which a killed JVM never deletes,
 * so whoever holds DATA_DIR removes the leftovers: see {@link #removeLeftovers}.
 */
final class SqliteNative {

  static final String PROPERTY = "org.sqlite.tmpdir";
  static final String DIRECTORY = "native";

  private SqliteNative() {
  }

  /**
   * Deletes copies in DATA_DIR/native older than {@code olderThan}. Called by the holder of the DATA_DIR lock, so no
   * other relay is using one; a command running beside it loaded its copy within milliseconds of unpacking it, and
   * a loaded library stays mapped when its file is deleted.
   */
  static void removeLeftovers(Path dataDir, Duration olderThan) throws IOException {
    Path directory = dataDir.resolve(DIRECTORY);
    if (!Files.isDirectory(directory)) {
      return;
    }
    Instant before = Instant.now().minus(olderThan);
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("sqlite-")).toList()) {
        if (Files.getLastModifiedTime(file).toInstant().isBefore(before)) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /**
   * Makes the copies in DATA_DIR/native owner-only: sqlite-jdbc unpacks them with the umask's mode (0766 for the
   * library under umask 000, a file the process executes). Call once the driver has loaded.
   */
  static void restrictCopies(Path dataDir) throws IOException {
    Path directory = dataDir.resolve(DIRECTORY);
    if (!directory.toString().equals(System.getProperty(PROPERTY)) || !Files.isDirectory(directory)) {
      return;
    }
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.getFileName().toString().startsWith("sqlite-")).toList()) {
        PrivateFiles.restrict(file);
      }
    }
  }

  static synchronized void extractUnder(Path dataDir) throws IOException {
    if (System.getProperty(PROPERTY) != null) {
      return;
    }
    Path directory = dataDir.resolve(DIRECTORY);
    PrivateFiles.createDirectories(directory);
    try {
      // The relay's own directory: 0700 even after a `chmod -R 600 data` (without x nothing in it can be loaded).
      Files.setPosixFilePermissions(directory, PrivateFiles.DIRECTORY);
    } catch (UnsupportedOperationException | IOException e) {
      // Not POSIX, or not ours: SQLite's loader reports what it cannot do.
    }
    System.setProperty(PROPERTY, directory.toString());
  }
}
