package io.leadrelay.store;

import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Generated webhook secrets in the shared PostgreSQL store: every node behind the load balancer must accept the
 * same URL, so the first node to start makes the secret and the others read it. Runs once at start-up, before
 * the relay is deployed, over JDBC on a worker thread (as the migrations do, which it applies first: the table may
 * not exist yet).
 */
public final class PgWebhookSecrets {

  /** A secret and whether its URL has yet to be shown to the user (by any node). */
  public record Secret(String value, boolean unannounced) {
  }

  private PgWebhookSecrets() {
  }

  /** The integration's secret, storing {@code candidate} as it if there is none yet (the first node wins). */
  public static Secret resolve(PgSettings settings, String integration, String candidate) {
    PgMigrations.apply(settings);
    try (Connection connection = source(settings).getConnection()) {
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO webhook_secrets (integration, "
          + "secret, announced, created_at) VALUES (?, ?, FALSE, leadrelay_now_ms()) ON CONFLICT DO NOTHING")) {
        insert.setString(1, integration);
        insert.setString(2, candidate);
        insert.executeUpdate();
      }
      try (PreparedStatement select = connection.prepareStatement(
          "SELECT secret, announced FROM webhook_secrets WHERE integration = ?")) {
        select.setString(1, integration);
        try (ResultSet rows = select.executeQuery()) {
          rows.next();
          return new Secret(rows.getString(1), !rows.getBoolean(2));
        }
      }
    } catch (SQLException e) {
      throw refused(settings, e);
    }
  }

  /** The URL has been shown: no node shows it again. */
  public static void announced(PgSettings settings, String integration) {
    try (Connection connection = source(settings).getConnection();
         PreparedStatement update = connection.prepareStatement(
             "UPDATE webhook_secrets SET announced = TRUE WHERE integration = ?")) {
      update.setString(1, integration);
      update.executeUpdate();
    } catch (SQLException e) {
      throw refused(settings, e);
    }
  }

  private static PGSimpleDataSource source(PgSettings settings) {
    PGSimpleDataSource source = new PGSimpleDataSource();
    settings.configure(source);
    return source;
  }

  private static StoreRefusal refused(PgSettings settings, SQLException e) {
    return new StoreRefusal("Cannot keep webhook secrets in the delivery store " + settings.describe() + ": "
        + e.getMessage() + ".", e);
  }
}
