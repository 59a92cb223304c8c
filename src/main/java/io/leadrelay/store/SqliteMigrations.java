package io.leadrelay.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.sqlite.SQLiteDataSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Brings a SQLite delivery store's schema to the version this code knows, with Flyway: the migrations are the
 * versioned SQL resources in {@code db/sqlite/}, and Flyway's history table records which ones a file has.
 *
 * <p>Files written before Flyway (releases up to issue 7) recorded their versions in a {@code schema_version}
 * table; such a file is taken over in place: Flyway's history starts with a baseline at the version it records,
 * and only the later migrations run. {@code schema_version} is still kept up to date, so a file this release
 * migrated is refused by those older releases (they refuse a version they do not know) instead of being misread.
 * A file written by a newer release is refused rather than used with a schema this code does not understand.
 */
final class SqliteMigrations {

  static final String LOCATION = "classpath:db/sqlite";

  /** The newest migration in {@code db/sqlite/}. Raise it with every script added; never edit a released one. */
  private static final int LATEST = 3;

  private SqliteMigrations() {
  }

  /** The schema version this code writes and reads. */
  static int latestVersion() {
    return LATEST;
  }

  /**
   * Applies the missing migrations and returns the version the file had before (0 for a new file). Throws a
   * StoreRefusal naming the file when its schema is newer than this code knows. Blocking: a worker thread's job.
   */
  static int apply(Path file, long nowMillis) throws SQLException {
    SQLiteDataSource source = new SQLiteDataSource();
    source.setUrl("jdbc:sqlite:" + file);
    int legacy = legacyVersion(source);
    FluentConfiguration configuration = Flyway.configure()
        .dataSource(source)
        .locations(LOCATION)
        .cleanDisabled(true);
    if (legacy > 0) {
      // Used only when Flyway's history table is missing: a file of the pre-Flyway releases.
      configuration.baselineOnMigrate(true).baselineVersion(String.valueOf(legacy))
          .baselineDescription("schema_version " + legacy + " of a release before Flyway");
    }
    Flyway flyway = configuration.load();
    MigrationInfo current = flyway.info().current();
    int before = Math.max(legacy, current == null ? 0 : Integer.parseInt(current.getVersion().getVersion()));
    if (before > LATEST) {
      throw new StoreRefusal("The delivery store " + file + " has schema version " + before
          + ", newer than this LeadRelay knows (" + LATEST + "): it was written by a newer release. "
          + "Run that release (or newer), or point DATA_DIR at another directory.");
    }
    flyway.migrate();
    recordLegacyVersions(source, nowMillis);
    return before;
  }

  /** The version the pre-Flyway {@code schema_version} table records, 0 when there is none. */
  private static int legacyVersion(SQLiteDataSource source) throws SQLException {
    try (Connection connection = source.getConnection(); Statement statement = connection.createStatement();
         ResultSet table = statement.executeQuery(
             "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")) {
      if (!table.next()) {
        return 0;
      }
      try (Statement select = connection.createStatement();
           ResultSet rows = select.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
        rows.next();
        return rows.getInt(1);
      }
    }
  }

  /** Keeps {@code schema_version} at the latest version: what an older release checks before using the file. */
  private static void recordLegacyVersions(SQLiteDataSource source, long nowMillis) throws SQLException {
    try (Connection connection = source.getConnection(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS schema_version ("
          + "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
      try (PreparedStatement record = connection.prepareStatement(
          "INSERT OR IGNORE INTO schema_version (version, applied_at) VALUES (?, ?)")) {
        for (int version = 1; version <= LATEST; version++) {
          record.setInt(1, version);
          record.setLong(2, nowMillis);
          record.addBatch();
        }
        record.executeBatch();
      }
    }
  }
}
