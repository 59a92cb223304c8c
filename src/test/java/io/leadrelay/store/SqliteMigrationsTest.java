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
    try (Connection connection = connect(file)) {
      assertEquals(0, SqliteMigrations.apply(connection, file, 1L), "a new file starts at version 0");
      assertEquals(SqliteMigrations.latestVersion(), SqliteMigrations.apply(connection, file, 2L));
    }
    assertEquals(allVersions(), versions(file));
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

  @Test
  void scriptsSplitIntoStatementsWithoutComments() {
    String script = "-- a table\nCREATE TABLE a (x INTEGER);\n\n  -- an index\nCREATE INDEX a_x ON a (x);\n";

    assertEquals(List.of("CREATE TABLE a (x INTEGER)", "CREATE INDEX a_x ON a (x)"),
        SqliteMigrations.statements(script));
  }
}
