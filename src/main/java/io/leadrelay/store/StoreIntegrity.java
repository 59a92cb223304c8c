package io.leadrelay.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The checks that keep a damaged store from starting as if nothing happened. SQLite opens an empty or missing file
 * as a new, empty store, so a database deleted or emptied beside its write-ahead log would start with every
 * accepted webhook gone; a damaged file would fail later, on some sweep. Either way start-up stops instead, with
 * one sentence that says what is wrong and what to run (the README's "Backing up and recovering the store" has the
 * details).
 */
final class StoreIntegrity {

  private StoreIntegrity() {
  }

  /** Before SQLite touches the files: the database must not be missing or empty beside a write-ahead log. */
  static void checkFilesBeforeOpen(Path file) {
    Path wal = Path.of(file + "-wal");
    try {
      if (!Files.exists(wal) || Files.size(wal) == 0) {
        return;
      }
      if (!Files.exists(file)) {
        throw lost(file, "the database file is missing beside its write-ahead log " + wal.getFileName());
      }
      if (Files.size(file) == 0) {
        throw lost(file, "the database file is empty (0 bytes) beside its write-ahead log " + wal.getFileName());
      }
    } catch (IOException e) {
      throw new StoreRefusal("Cannot open the delivery store " + file + ": " + e.getMessage() + ".", e);
    }
  }

  /** SQLite's own consistency check of every page and index, in a fraction of a second for a typical store. */
  static void quickCheck(Connection connection, Path file) throws SQLException {
    try (Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("PRAGMA quick_check")) {
      String finding = rows.next() ? rows.getString(1) : "no answer";
      if (!"ok".equals(finding)) {
        throw damaged(file, finding);
      }
    }
  }

  /** Whether SQLite said the file is not a database or is corrupt (as opposed to busy, read-only, full...). */
  static boolean isDamage(SQLException e) {
    int primary = e.getErrorCode() & 0xff;
    return primary == 11 /* SQLITE_CORRUPT */ || primary == 26 /* SQLITE_NOTADB */;
  }

  static StoreRefusal damaged(Path file, String finding) {
    Path dir = file.getParent();
    return new StoreRefusal("Cannot open the delivery store " + file + ": it is damaged ("
        + abbreviate(finding) + "), so LeadRelay will not start on it: copy " + dir + " aside, then recover what is"
        + " readable with sqlite3 " + file + " \".recover\" | sqlite3 " + dir.resolve("recovered.db")
        + ", move leadrelay.db* and " + DataDirectory.RUNNING_MARKER + " out of the way and rename recovered.db to"
        + " leadrelay.db (see"
        + " \"Backing up and recovering the store\" in the README).");
  }

  private static StoreRefusal lost(Path file, String what) {
    return new StoreRefusal("Cannot open the delivery store " + file + ": " + what + ", so the webhooks"
        + " it held would be lost: restore " + file.getParent() + " from a backup, or, to start with an"
        + " empty store and lose them, move leadrelay.db* out of the way (see \"Backing up and recovering the"
        + " store\" in the README).");
  }

  private static String abbreviate(String text) {
    String line = text.strip().replaceAll("\\s+", " ");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
