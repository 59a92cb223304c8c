package io.leadrelay.store;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

import static io.leadrelay.store.Await.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OAuth token pairs in the SQLite store: saved, replaced, kept across a restart, and the V1 → V2 upgrade. */
@ExtendWith(VertxExtension.class)
class TokenStoreTest {

  private static final String PORTAL = "https://shop.bitrix24.ru";

  @TempDir
  Path dir;

  @Test
  void aSavedPairComesBackAndTheNextOneReplacesIt(Vertx vertx) {
    Path file = dir.resolve("leadrelay.db");
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    assertEquals(Optional.empty(), await(store.loadTokens(PORTAL)));

    TokenPair first = new TokenPair("a1", "r1", Instant.ofEpochMilli(1_700_000_000_000L));
    await(store.saveTokens(PORTAL, first));
    assertEquals(Optional.of(first), await(store.loadTokens(PORTAL)));

    TokenPair rotated = new TokenPair(null, "r2", null);
    await(store.saveTokens(PORTAL, rotated));
    assertEquals(Optional.of(rotated), await(store.loadTokens(PORTAL)));
    assertEquals(Optional.empty(), await(store.loadTokens("https://other.bitrix24.ru")));
    await(store.close());

    SqliteDeliveryStore reopened = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    assertEquals(Optional.of(rotated), await(reopened.loadTokens(PORTAL)), "the rotated pair survives a restart");
    await(reopened.close());
  }

  @Test
  void aVersionOneFileGainsTheTokenTable(Vertx vertx) throws Exception {
    Path file = dir.resolve("leadrelay.db");
    // A file as the release before OAuth left it: the V1 schema, recorded as version 1, with a delivery in it.
    OldReleaseSchema.create(file, 1);
    try (Connection connection = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new Properties());
         Statement statement = connection.createStatement()) {
      statement.execute("INSERT INTO deliveries (id, integration, received_at, payload, body_hash, state, "
          + "next_attempt_at, updated_at) VALUES ('d-1', 'main', 1, '{\"name\":\"Ivan\"}', 'h', 'PENDING', 1, 1)");
    }

    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    await(store.saveTokens(PORTAL, new TokenPair("a", "r", null)));
    assertEquals("r", await(store.loadTokens(PORTAL)).orElseThrow().refreshToken());
    assertEquals("Ivan", await(store.find("d-1")).orElseThrow().delivery().payload().getString("name"));
    await(store.close());

    // Migrated all the way: the token table (V2) and every later migration.
    assertEquals(SqliteMigrations.latestVersion(), maxVersion(file));
  }

  private static int maxVersion(Path file) throws SQLException {
    try (Connection connection = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new Properties());
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT MAX(version) FROM schema_version")) {
      assertTrue(rows.next());
      return rows.getInt(1);
    }
  }
}
