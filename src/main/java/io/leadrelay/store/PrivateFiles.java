package io.leadrelay.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The relay's state is private to the user it runs as: the store holds subscribers' data and OAuth tokens, the
 * secret files the webhook URL's secret. Directories it creates are 0700 and its files 0600, set explicitly so that
 * no umask (a container's 000, say) widens them. On a file system without POSIX permissions this does nothing.
 */
public final class PrivateFiles {

  static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private PrivateFiles() {
  }

  /**
   * Creates the directory and any missing parents, each 0700. A directory that already exists keeps its mode: it
   * may be a volume or a home the operator chose, and the files in it are private anyway.
   */
  public static void createDirectories(Path directory) throws IOException {
    Path absolute = directory.toAbsolutePath().normalize();
    if (Files.isDirectory(absolute)) {
      return;
    }
    Path parent = absolute.getParent();
    if (parent != null) {
      createDirectories(parent);
    }
    try {
      Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(DIRECTORY));
      Files.setPosixFilePermissions(absolute, DIRECTORY);
    } catch (UnsupportedOperationException e) {
      Files.createDirectories(absolute);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      if (!Files.isDirectory(absolute)) {
        throw e;
      }
      // Created meanwhile by another process (a second relay, the command line); its mode is its creator's.
    }
  }

  /** Creates an empty 0600 file; fails if it exists. */
  public static void createFile(Path file) throws IOException {
    try {
      Files.createFile(file, attribute());
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    restrict(file);
  }

  /** Makes an existing file 0600 (one written by an older release, or by SQLite); a missing file is left missing. */
  public static void restrict(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, FILE);
    } catch (UnsupportedOperationException | java.nio.file.NoSuchFileException e) {
      // Nothing to restrict: no POSIX permissions here, or the file does not exist (yet).
    }
  }

  private static FileAttribute<Set<PosixFilePermission>> attribute() {
    return PosixFilePermissions.asFileAttribute(FILE);
  }
}
