package io.leadrelay.testing;

import io.leadrelay.store.PgSettings;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;

/**
 * A private PostgreSQL database for one test class, on the server that {@code LEADRELAY_TEST_PG} names (default
 * {@code postgresql://postgres@127.0.0.1:5432/test}, the database to connect to while creating the private one), or
 * the standard PG* variables when PGHOST is set and LEADRELAY_TEST_PG is not. Other test runs share the server, so
 * every class gets a randomly named database of its own, dropped at the end. No server: the test fails, it never
 * skips (.ci/run starts PostgreSQL). Use: {@code @RegisterExtension static final TestPostgres database = new
 * TestPostgres();}
 */
public final class TestPostgres implements BeforeAllCallback, AfterAllCallback {

  public static final String DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test";

  private PgSettings server;
  private String database;

  /** Creates a fresh database named {@code leadrelay_<random>} before the class's tests. */
  @Override
  public void beforeAll(ExtensionContext context) {
    server = serverSettings();
    database = "leadrelay_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    execute(server, "CREATE DATABASE " + database);
  }

  /** Where the private database is, with the server's login. */
  public PgSettings settings() {
    return server.withDatabase(database);
  }

  /** {@code postgresql://user[:password]@host:port/db} for the private database, as DATABASE_URL takes it. */
  public String url() {
    PgSettings s = settings();
    return "postgresql://" + s.user() + (s.password() == null ? "" : ":" + s.password()) + "@" + s.host() + ":"
        + s.port() + "/" + s.database();
  }

  /** Runs SQL in the private database (set-up and inspection by tests; blocking JDBC on the test thread). */
  public void execute(String sql) {
    execute(settings(), sql);
  }

  /**
   * Runs SQL on the server's own database rather than the private one: what cannot be done from inside the private
   * database, such as letting connections to it in again after {@code ALLOW_CONNECTIONS false}.
   */
  public void executeOnServer(String sql) {
    execute(server, sql);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    execute(server, "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  private static PgSettings serverSettings() {
    String url = System.getenv("LEADRELAY_TEST_PG");
    if ((url == null || url.isBlank()) && System.getenv("PGHOST") != null) {
      return PgSettings.fromEnvironment(System.getenv(), 4);
    }
    return PgSettings.fromUrl(url == null || url.isBlank() ? DEFAULT_URL : url, 4);
  }

  private static void execute(PgSettings on, String sql) {
    Properties login = new Properties();
    login.setProperty("user", on.user());
    if (on.password() != null) {
      login.setProperty("password", on.password());
    }
    String jdbc = "jdbc:postgresql://" + on.host() + ":" + on.port() + "/" + on.database();
    try (Connection connection = DriverManager.getConnection(jdbc, login);
         Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL for the tests (" + on.describe() + ") failed: " + e.getMessage()
          + " Start it (.ci/run does) or point LEADRELAY_TEST_PG at one.", e);
    }
  }
}
