package io.leadrelay.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Writes delivery rows straight into a store file with plain JDBC, as an older release would have written them:
 * for tests of rows the current intake would refuse (a payload that cannot be read back).
 */
public final class LegacyRows {

  private LegacyRows() {
  }

  /** A PENDING delivery, due since {@code receivedAt}, with the payload text exactly as given. */
  public static void insertPending(Path dbFile, String id, String integration, long receivedAt, String payload) {
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + dbFile);
         PreparedStatement insert = connection.prepareStatement("INSERT INTO deliveries (id, integration, "
             + "received_at, payload, body_hash, state, next_attempt_at, updated_at) "
             + "VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)")) {
      insert.setString(1, id);
      insert.setString(2, integration);
      insert.setLong(3, receivedAt);
      insert.setString(4, payload);
      insert.setString(5, "hash-" + id);
      insert.setLong(6, receivedAt);
      insert.setLong(7, receivedAt);
      insert.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
