package io.leadrelay.store;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class SqliteMigrationsTest {

  @TempDir
  Path dir;

  private static Connection connect(Path file) throws SQLException {
    return org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new Properties());
  }

  private static List<Integer> versions(Path file) throws SQLException {
    List<Integer> versions = new ArrayList<>();
    try (Connection connection = connect(file);
         Statement select = connection.createStatement();
         ResultSet rows = select.executeQuery("SELECT version FROM schema_version ORDER BY version")) {
      while (rows.next()) {
        versions.add(rows.getInt(1));
      }
    }
    return versions;
  }

  private static List<Integer> allVersions() {
    List<Integer> all = new ArrayList<>();
    for (int v = 1; v <= SqliteMigrations.latestVersion(); v++) {
      all.add(v);
    }
    return all;
  }

  @Test
  void aNewFileGetsTheLatestSchema(Vertx vertx) throws SQLException {
    Path file = dir.resolve("leadrelay.db");

    await(await(SqliteDeliveryStore.open(vertx, file, "FULL")).close());

    assertEquals(allVersions(), versions(file));
  }

  @Test
  void reopeningKeepsTheDataAndAppliesNothingTwice(Vertx vertx) throws SQLException {
    Path file = dir.resolve("leadrelay.db");
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    Delivery d = new Delivery("d-01", "main", Instant.parse("2025-03-01T10:00:00Z"), null,
        new JsonObject().put("name", "Ivan"));
    await(store.accept(new NewDelivery(d, "h"), Duration.ofMinutes(1), null));
    await(store.close());

    store = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    assertEquals("Ivan", await(store.find("d-01")).orElseThrow().delivery().payload().getString("name"));
    await(store.close());

    assertEquals(allVersions(), versions(file));
  }

  @Test
  void applyingTwiceChangesNothing() throws SQLException {
    Path file = dir.resolve("leadrelay.db");
    assertEquals(0, SqliteMigrations.apply(file, 1L), "a new file starts at version 0");
    assertEquals(SqliteMigrations.latestVersion(), SqliteMigrations.apply(file, 2L));
    assertEquals(allVersions(), versions(file));
    assertEquals(allVersions(), flywayVersions(file), "Flyway's history has every migration once");
  }

  @Test
  void aFileOfTheLastReleaseBeforeFlywayOpensWithEveryRow(Vertx vertx) throws Exception {
    Path file = dir.resolve("leadrelay.db");
    OldReleaseSchema.create(file, 2);
    try (Connection connection = connect(file); Statement statement = connection.createStatement()) {
      statement.execute("INSERT INTO deliveries (id, integration, received_at, payload, body_hash, state, "
          + "next_attempt_at, updated_at, lead_id, delivered_at) VALUES "
          + "('d-1', 'main', 1, '{\"name\":\"Иван\",\"price\":1.50}', 'h1', 'PENDING', 1, 1, NULL, NULL), "
          + "('d-2', 'main', 2, '{\"name\":\"Olga\"}', 'h2', 'DELIVERED', 2, 3, 77, 3)");
      statement.execute("INSERT INTO attempts_log (delivery_id, at, outcome) VALUES ('d-2', 3, 'created')");
      statement.execute("INSERT INTO portal_tokens VALUES ('https://x.bitrix24.ru', 'a', 'r', NULL, 1)");
    }

    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, file, "FULL"));
    DeliveryRecord pending = await(store.find("d-1")).orElseThrow();
    DeliveryRecord delivered = await(store.find("d-2")).orElseThrow();
    String refreshToken = await(store.loadTokens("https://x.bitrix24.ru")).orElseThrow().refreshToken();
    List<DeliveryRecord> found = await(store.search(
        new DeliveryFilter(null, null, null, null, SubscriberText.needle("ИВАН"), null), 10));
    await(store.close());

    assertEquals("{\"name\":\"Иван\",\"price\":1.50}", pending.delivery().payload().encode());
    assertEquals(DeliveryState.DELIVERED, delivered.state());
    assertEquals(77L, delivered.leadId());
    assertEquals(1, delivered.history().size());
    assertEquals("r", refreshToken);
    assertEquals(allVersions(), versions(file));
    assertEquals(2, flywayVersions(file).get(0), "Flyway's history starts from the old file's version");
    assertEquals(List.of("d-1"), found.stream().map(r -> r.delivery().id()).toList(),
        "rows stored before the search column are found by it");
  }

  @Test
  void aFileFromANewerReleaseIsRefusedWithAClearMessage(Vertx vertx) throws SQLException {
    Path file = dir.resolve("leadrelay.db");
    await(await(SqliteDeliveryStore.open(vertx, file, "FULL")).close());
    int newer = SqliteMigrations.latestVersion() + 1;
    try (Connection connection = connect(file); Statement statement = connection.createStatement()) {
      statement.executeUpdate("INSERT INTO schema_version (version, applied_at) VALUES (" + newer + ", 0)");
    }

    Throwable error = awaitFailure(SqliteDeliveryStore.open(vertx, file, "FULL"));

    assertTrue(error instanceof IllegalStateException, String.valueOf(error));
    assertEquals("The delivery store " + file.toAbsolutePath() + " has schema version " + newer
        + ", newer than this LeadRelay knows (" + SqliteMigrations.latestVersion() + "): it was written by a newer "
        + "release. Run that release (or newer), or point DATA_DIR at another directory.", error.getMessage());
    assertEquals(newer, versions(file).get(versions(file).size() - 1), "the file was left as it was");
  }

  private static List<Integer> flywayVersions(Path file) throws SQLException {
    List<Integer> versions = new ArrayList<>();
    try (Connection connection = connect(file);
         Statement select = connection.createStatement();
         ResultSet rows = select.executeQuery(
             "SELECT version FROM flyway_schema_history WHERE success = 1 ORDER BY installed_rank")) {
      while (rows.next()) {
        versions.add(Integer.parseInt(rows.getString(1)));
      }
    }
    return versions;
  }
}
