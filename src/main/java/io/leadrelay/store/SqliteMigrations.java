package io.leadrelay.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings a SQLite delivery store's schema to the version this code knows. Migrations are the ordered SQL resources
 * in {@code db/sqlite/}; the {@code schema_version} table records which ones a file has, so applying is idempotent
 * and an upgraded relay upgrades its file on start. A file written by a newer relay is refused rather than used
 * with a schema this code does not understand.
 */
final class SqliteMigrations {

  private static final String DIRECTORY = "db/sqlite/";

  /** In order: the script at index i brings the schema to version i + 1. Never edit one that was released. */
  private static final List<String> SCRIPTS = List.of(
      "V1__deliveries.sql",
      "V2__portal_tokens.sql");

  private SqliteMigrations() {
  }

  /** The schema version this code writes and reads. */
  static int latestVersion() {
    return SCRIPTS.size();
  }

  /**
   * Applies the missing migrations in one transaction and returns the version the file had before. Throws an
   * StoreRefusal naming the file when its schema is newer than this code knows.
   */
  static int apply(Connection connection, Path file, long nowMillis) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      // IMMEDIATE: two relays started on the same file at once must not both apply a migration.
      statement.execute("BEGIN IMMEDIATE");
      try {
        statement.execute("CREATE TABLE IF NOT EXISTS schema_version ("
            + "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
        int current = currentVersion(statement);
        if (current > latestVersion()) {
          throw new StoreRefusal("The delivery store " + file + " has schema version " + current
              + ", newer than this LeadRelay knows (" + latestVersion() + "): it was written by a newer release. "
              + "Run that release (or newer), or point DATA_DIR at another directory.");
        }
        for (int version = current + 1; version <= latestVersion(); version++) {
          for (String sql : statements(load(SCRIPTS.get(version - 1)))) {
            statement.execute(sql);
          }
          try (PreparedStatement record = connection.prepareStatement(
              "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")) {
            record.setInt(1, version);
            record.setLong(2, nowMillis);
            record.executeUpdate();
          }
        }
        statement.execute("COMMIT");
        return current;
      } catch (SQLException | RuntimeException e) {
        statement.execute("ROLLBACK");
        throw e;
      }
    }
  }

  private static int currentVersion(Statement statement) throws SQLException {
    try (ResultSet rows = statement.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private static String load(String script) {
    String resource = DIRECTORY + script;
    try (InputStream in = SqliteMigrations.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("Migration " + resource + " is missing from the LeadRelay jar.");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Migration " + resource + " could not be read.", e);
    }
  }

  /**
   * Splits a script into statements. The scripts are ours and simple: comments are whole "--" lines and no
   * statement has a semicolon inside it (no triggers, no string literals with ';').
   */
  static List<String> statements(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.strip().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    List<String> statements = new ArrayList<>();
    for (String part : text.toString().split(";")) {
      if (!part.isBlank()) {
        statements.add(part.strip());
      }
    }
    return statements;
  }
}
