package io.leadrelay.store;

import io.leadrelay.http.PayloadParser;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fills the search column of deliveries stored before it existed (schema migrations add it empty: SQL cannot
 * lower-case Cyrillic in SQLite nor normalise a phone the way {@link SubscriberText} does). Runs once at open, in
 * chunks, on the store's own JDBC connection; a row whose payload cannot be read gets "" so it is not read again.
 * Blocking: a worker thread's job.
 */
final class SubscriberBackfill {

  private static final int CHUNK = 1000;

  private SubscriberBackfill() {
  }

  /** Returns how many rows were filled. */
  static int fill(Connection connection) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    int filled = 0;
    try {
      connection.setAutoCommit(false);
      while (true) {
        Map<String, String> chunk = new LinkedHashMap<>();
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT id, payload FROM deliveries WHERE subscriber IS NULL LIMIT " + CHUNK);
             ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            chunk.put(rows.getString(1), text(rows.getString(2)));
          }
        }
        if (chunk.isEmpty()) {
          break;
        }
        try (PreparedStatement update = connection.prepareStatement(
            "UPDATE deliveries SET subscriber = ? WHERE id = ?")) {
          for (Map.Entry<String, String> row : chunk.entrySet()) {
            update.setString(1, row.getValue());
            update.setString(2, row.getKey());
            update.addBatch();
          }
          update.executeBatch();
        }
        connection.commit();
        filled += chunk.size();
      }
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
    return filled;
  }

  private static String text(String payload) {
    try {
      return SubscriberText.of(PayloadParser.parse(PayloadParser.JSON, payload.getBytes(StandardCharsets.UTF_8)));
    } catch (RuntimeException e) {
      return "";
    }
  }
}
