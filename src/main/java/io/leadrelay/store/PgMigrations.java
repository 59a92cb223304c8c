package io.leadrelay.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Brings the shared PostgreSQL schema to the version this code knows, with Flyway over JDBC (start-up only, on a
 * worker thread; the store itself is reactive). Several nodes starting at once are safe: Flyway serialises them
 * with a PostgreSQL advisory lock. Versions V1-V49 in {@code db/postgres/} are the delivery store's, V50 and up the
 * cluster's (portal ownership); a database migrated by a newer release than this one is refused.
 */
final class PgMigrations {

  static final String LOCATION = "classpath:db/postgres";

  private PgMigrations() {
  }

  /** Applies what is missing; returns the schema version the database had before ("0" when new). Blocking. */
  static String apply(PgSettings settings) {
    PGSimpleDataSource source = new PGSimpleDataSource();
    settings.configure(source);
    Flyway flyway = Flyway.configure()
        .dataSource(source)
        .locations(LOCATION)
        .cleanDisabled(true)
        // The delivery store's versions (V1-V49) can come after the cluster's (V50+) on a database that already
        // has those: V2 was written after V50 was released.
        .outOfOrder(true)
        .load();
    MigrationInfo current;
    MigrationInfo[] known;
    try {
      current = flyway.info().current();
      known = flyway.info().all();
    } catch (RuntimeException e) {
      throw cannotUse(settings, e);
    }
    MigrationVersion latest = MigrationVersion.EMPTY;
    for (MigrationInfo info : known) {
      if (info.getState().isResolved() && info.getVersion() != null && info.getVersion().isNewerThan(latest)) {
        latest = info.getVersion();
      }
    }
    if (current != null && current.getVersion().isNewerThan(latest)) {
      throw new StoreRefusal("The delivery store " + settings.describe() + " has schema version "
          + current.getVersion() + ", newer than this LeadRelay knows (" + latest + "): it was migrated by a newer "
          + "release. Run that release (or newer) on every node.");
    }
    try {
      flyway.migrate();
      try (java.sql.Connection connection = source.getConnection()) {
        SubscriberBackfill.fill(connection);
      }
    } catch (RuntimeException | java.sql.SQLException e) {
      throw cannotUse(settings, e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e));
    }
    return current == null ? "0" : current.getVersion().toString();
  }

  /** One sentence with the server masked; the driver's own text says why (it never carries the password). */
  private static StoreRefusal cannotUse(PgSettings settings, RuntimeException e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String reason = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage().strip();
    int newline = reason.indexOf('\n');
    return new StoreRefusal("Cannot use the delivery store " + settings.describe() + ": "
        + (newline >= 0 ? reason.substring(0, newline) : reason) + ".", e);
  }
}
