package io.leadrelay.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where sqlite-jdbc unpacks its native library. By default that is java.io.tmpdir, and every start leaves another
 * copy there when the JVM is killed; under DATA_DIR it stays with the relay's own files (sqlite-jdbc removes the
 * copies of earlier runs there itself). Must run before the driver first loads; an operator's own
 * {@code -Dorg.sqlite.tmpdir} (e.g. because DATA_DIR is mounted noexec) is left as it is.
 */
final class SqliteNative {

  static final String PROPERTY = "org.sqlite.tmpdir";
  static final String DIRECTORY = "native";

  private SqliteNative() {
  }

  static synchronized void extractUnder(Path dataDir) throws IOException {
    if (System.getProperty(PROPERTY) != null) {
      return;
    }
    Path directory = dataDir.resolve(DIRECTORY);
    PrivateFiles.createDirectories(directory);
    System.setProperty(PROPERTY, directory.toString());
  }
}
