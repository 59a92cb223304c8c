package io.leadrelay.store;

import io.vertx.core.Future;

import java.sql.ResultSet;
import java.sql.Statement;

/**
 * Real SQLite failures on a running relay's store, for end-to-end tests: "database or disk is full" by forbidding
 * the file to grow (SQLite's own {@code max_page_count}), exactly what a full disk answers.
 */
public final class StoreFaults {

  private StoreFaults() {
  }

  /** From now on the file cannot grow: a write needing a new page fails with SQLITE_FULL. */
  public static Future<Void> fillDisk(DeliveryStore store) {
    return ((SqliteDeliveryStore) store).inTransaction(connection -> {
      try (Statement statement = connection.createStatement();
           ResultSet pages = statement.executeQuery("PRAGMA page_count")) {
        pages.next();
        long count = pages.getLong(1);
        statement.execute("PRAGMA max_page_count = " + count);
      }
      return null;
    });
  }

  /** Space again. */
  public static Future<Void> freeDisk(DeliveryStore store) {
    return ((SqliteDeliveryStore) store).inTransaction(connection -> {
      try (Statement statement = connection.createStatement()) {
        statement.execute("PRAGMA max_page_count = 1073741823");
      }
      return null;
    });
  }
}
