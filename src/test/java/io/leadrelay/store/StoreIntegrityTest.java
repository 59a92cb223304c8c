package io.leadrelay.store;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Statement;
import java.time.Instant;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the store does with files it cannot trust, with a second relay on its directory, and when it can no longer
 * keep what it is given: it refuses to start or reports DOWN, never silently serves an empty or dead store.
 */
@ExtendWith(VertxExtension.class)
class StoreIntegrityTest {

  @TempDir
  Path dir;

  private Vertx vertx;
  private Path data;
  private Path db;

  @BeforeEach
  void paths(Vertx vertx) {
    this.vertx = vertx;
    data = dir.resolve("data");
    db = data.resolve("leadrelay.db");
  }

  /** A store with one accepted webhook, closed after a crash would have left its WAL: copies taken while open. */
  private void crashedStoreWithOneWebhook() throws Exception {
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, db, "FULL"));
    await(store.accept(new NewDelivery(new Delivery("d-01", "main", Instant.now(), null,
        new JsonObject().put("name", "Анна")), "h"), null, null));
    Path copy = dir.resolve("copy");
    Files.createDirectories(copy);
    for (String suffix : new String[] {"", "-wal"}) {
      Files.copy(Path.of(db + suffix), copy.resolve("leadrelay.db" + suffix));
    }
    await(store.close());
    for (String suffix : new String[] {"", "-wal"}) {
      Files.copy(copy.resolve("leadrelay.db" + suffix), Path.of(db + suffix), StandardCopyOption.REPLACE_EXISTING);
    }
    Files.deleteIfExists(Path.of(db + "-shm"));
  }

  @Test
  void anEmptyDatabaseBesideItsWriteAheadLogStopsTheStart() throws Exception {
    crashedStoreWithOneWebhook();
    Files.write(db, new byte[0]);

    Throwable refused = awaitFailure(SqliteDeliveryStore.open(vertx, db, "FULL"));

    assertTrue(refused.getMessage().contains("is empty (0 bytes) beside its write-ahead log"), refused.getMessage());
    assertTrue(refused.getMessage().contains("Backing up and recovering the store"), refused.getMessage());
    assertEquals(0, Files.size(db), "nothing was written over the evidence");
  }

  @Test
  void aDatabaseDeletedBesideItsWriteAheadLogStopsTheStartInsteadOfANewStore() throws Exception {
    crashedStoreWithOneWebhook();
    Files.delete(db);

    Throwable refused = awaitFailure(SqliteDeliveryStore.open(vertx, db, "FULL"));

    assertTrue(refused.getMessage().contains("the database file is missing beside its write-ahead log"),
        refused.getMessage());
    assertFalse(Files.exists(db), "no new empty store was created");
  }

  @Test
  void aDamagedDatabaseFailsTheQuickCheckWithTheRecoveryCommand() throws Exception {
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, db, "FULL"));
    for (int i = 0; i < 200; i++) {
      await(store.accept(new NewDelivery(new Delivery("d-" + i, "main", Instant.now(), null,
          new JsonObject().put("name", "x".repeat(500))), "h" + i), null, null));
    }
    await(store.close());
    try (RandomAccessFile file = new RandomAccessFile(db.toFile(), "rw")) {
      // Garbage over the middle of the file: index and table pages the header still points to.
      file.seek(file.length() / 2);
      file.write(new byte[8192]);
    }

    Throwable refused = awaitFailure(SqliteDeliveryStore.open(vertx, db, "FULL"));

    assertTrue(refused.getMessage().contains("it is damaged"), refused.getMessage());
    assertTrue(refused.getMessage().contains(".recover"), refused.getMessage());
  }

  @Test
  void aSecondClaimOnTheDirectoryIsRefusedWithTheHoldersPidUntilTheFirstIsReleased() {
    DataDirectory first = DataDirectory.claim(data, db);
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> DataDirectory.claim(data, db));
    assertEquals("DATA_DIR " + data.toAbsolutePath() + " is in use by another LeadRelay (PID "
        + ProcessHandle.current().pid() + "): stop it first, or give this one its own DATA_DIR, since two relays on"
        + " one store would send every lead twice.", refused.getMessage());

    first.release(true);
    DataDirectory.claim(data, db).release(true);
  }

  @Test
  void anUncleanStopWhoseWriteAheadLogWentMissingStopsTheNextStart() throws Exception {
    DataDirectory crashed = DataDirectory.claim(data, db);
    crashedStoreWithOneWebhook();
    crashed.markRunning();
    crashed.release(false);
    assertTrue(Files.exists(data.resolve(DataDirectory.RUNNING_MARKER)), "an unclean stop leaves the marker");

    DataDirectory.claim(data, db).release(false);

    Files.delete(Path.of(db + "-wal"));
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> DataDirectory.claim(data, db));
    assertTrue(refused.getMessage().contains("did not stop cleanly and its write-ahead log leadrelay.db-wal is"
        + " missing"), refused.getMessage());
    assertTrue(refused.getMessage().contains("delete " + data.toAbsolutePath().resolve("leadrelay.running")),
        refused.getMessage());
  }

  @Test
  void claimingTheDirectoryRemovesSqliteLibrariesAKilledRunLeftBehind() throws Exception {
    Path natives = data.resolve("native");
    Files.createDirectories(natives);
    Path killed = Files.writeString(natives.resolve("sqlite-3.53.4.0-dead-libsqlitejdbc.so"), "lib");
    Path killedLock = Files.writeString(natives.resolve("sqlite-3.53.4.0-dead-libsqlitejdbc.so.lck"), "");
    for (Path file : new Path[] {killed, killedLock}) {
      Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(Instant.now().minusSeconds(3600)));
    }
    Path starting = Files.writeString(natives.resolve("sqlite-3.53.4.0-new-libsqlitejdbc.so"), "lib");

    DataDirectory.claim(data, db).release(true);

    assertFalse(Files.exists(killed));
    assertFalse(Files.exists(killedLock));
    assertTrue(Files.exists(starting), "a copy another process may be loading right now stays");
  }

  @Test
  void aCleanReleaseRemovesTheMarker() {
    DataDirectory directory = DataDirectory.claim(data, db);
    directory.markRunning();
    assertTrue(Files.exists(data.resolve(DataDirectory.RUNNING_MARKER)));
    directory.release(true);
    assertFalse(Files.exists(data.resolve(DataDirectory.RUNNING_MARKER)));
  }

  @Test
  void theDirectoryIsCreated0700AndEveryFileIn0600() throws Exception {
    DataDirectory directory = DataDirectory.claim(data, db);
    directory.markRunning();
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, db, "FULL"));
    try {
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
      for (String file : new String[] {"leadrelay.db", "leadrelay.db-wal", "leadrelay.db-shm", "leadrelay.lock",
          "leadrelay.running"}) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(file))),
            file);
      }
    } finally {
      await(store.close());
      directory.release(true);
    }
  }

  @Test
  void aStoreThatCannotCommitIsDownUntilACommitGoesThroughAgain() {
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, db, "FULL"));
    try {
      assertEquals("UP", await(store.health()).getString("status"));
      // SQLite's own "database or disk is full": no page may be added beyond the ones the file has.
      await(store.inTransaction(connection -> {
        try (Statement statement = connection.createStatement()) {
          statement.execute("PRAGMA max_page_count = " + pageCount(statement));
        }
        return null;
      }));

      Throwable full = awaitFailure(store.accept(bigWebhook("d-full"), null, null));
      assertTrue(full.getMessage().contains("full"), full.getMessage());
      JsonObject down = await(store.health());
      assertEquals("DOWN", down.getString("status"));
      assertTrue(down.getString("reason").startsWith("the store cannot commit: "), down.encode());
      assertFalse(down.encode().contains("xxxx"), "no payload text in the health answer");

      await(store.inTransaction(connection -> {
        try (Statement statement = connection.createStatement()) {
          statement.execute("PRAGMA max_page_count = 1073741823");
        }
        return null;
      }));
      await(store.accept(bigWebhook("d-ok"), null, null));
      assertEquals("UP", await(store.health()).getString("status"));
    } finally {
      await(store.close());
    }
  }

  @Test
  void aStoreWhoseFileWasDeletedRefusesEveryWriteAndIsDown() throws Exception {
    SqliteDeliveryStore store = await(SqliteDeliveryStore.open(vertx, db, "FULL"));
    try {
      for (String suffix : new String[] {"", "-wal", "-shm"}) {
        Files.deleteIfExists(Path.of(db + suffix));
      }
      JsonObject down = await(store.health());
      assertEquals("DOWN", down.getString("status"), down.encode());
      assertTrue(down.getString("reason").contains("is gone"), down.encode());
      Throwable refused = awaitFailure(store.accept(bigWebhook("d-lost"), null, null));
      assertTrue(refused.getMessage().contains("is gone"), refused.getMessage());
    } finally {
      store.close();
    }
  }

  private static long pageCount(Statement statement) throws Exception {
    try (var rows = statement.executeQuery("PRAGMA page_count")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static NewDelivery bigWebhook(String id) {
    return new NewDelivery(new Delivery(id, "main", Instant.now(), null,
        new JsonObject().put("name", "x".repeat(20_000))), "h-" + id);
  }
}
