package io.leadrelay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract on the embedded SQLite store, and what only it has: its file, WAL, synchronous modes, quarantine. */
class SqliteDeliveryStoreTest extends DeliveryStoreContract {

  @TempDir
  Path dir;

  private Path file;

  @Override
  protected DeliveryStore open(Vertx vertx) {
    file = dir.resolve("data").resolve("leadrelay.db");
    return await(SqliteDeliveryStore.open(vertx, file, "FULL"));
  }

  @Override
  protected DeliveryStore otherNode() {
    return store;
  }

  @Override
  protected long commits() {
    return sqlite().commits();
  }

  @Override
  protected String duplicateIdRefusal() {
    return "PRIMARY KEY";
  }

  private SqliteDeliveryStore sqlite() {
    return (SqliteDeliveryStore) store;
  }

  @Override
  protected int historyRows(String id) {
    return await(sqlite().inTransaction(c -> {
      try (PreparedStatement select = c.prepareStatement("SELECT COUNT(*) FROM attempts_log WHERE delivery_id = ?")) {
        select.setString(1, id);
        try (ResultSet rows = select.executeQuery()) {
          rows.next();
          return rows.getInt(1);
        }
      }
    }));
  }

  @Override
  protected Fence ownPortal(String portal) {
    return new Fence(portal, 1);
  }

  @Override
  protected boolean takeOver(String portal) {
    return false;
  }

  @Override
  protected void setLeaseUntil(String id, Instant until) {
    await(sqlite().inTransaction(c -> {
      try (PreparedStatement update = c.prepareStatement("UPDATE deliveries SET lease_until = ? WHERE id = ?")) {
        update.setLong(1, until.toEpochMilli());
        update.setString(2, id);
        return update.executeUpdate();
      }
    }));
  }

  @Test
  void repeatsQueuedInTheSameBatchAreCaught() throws Exception {
    // Hold the writer so that all ten accepts are known to queue up and run in one transaction.
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Future<Boolean> held = sqlite().inTransaction(c -> {
      holding.countDown();
      return release.await(5, TimeUnit.SECONDS);
    });
    assertTrue(holding.await(5, TimeUnit.SECONDS));
    long commitsBefore = sqlite().commits();
    List<Future<Accepted>> answers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      answers.add(store.accept(webhook("d-" + i, "main", T0.plusMillis(i), "same"), WINDOW, null));
    }
    release.countDown();
    await(held);
    List<Accepted> accepted = answers.stream().map(Await::await).toList();

    assertEquals(2, sqlite().commits() - commitsBefore, "one commit for the holding job, one for all ten accepts");
    assertEquals(new Accepted("d-0", false), accepted.get(0));
    for (Accepted repeat : accepted.subList(1, 10)) {
      assertEquals(new Accepted("d-0", true), repeat);
    }
    assertEquals(1, await(store.list(null, null, 100)).size());
  }

  @Test
  void opensWithTheChosenSynchronousModeInWalWithForeignKeys() {
    assertEquals(2, pragma(sqlite(), "synchronous"), "FULL");
    assertEquals("wal", await(sqlite().inTransaction(c -> {
      try (ResultSet rows = c.createStatement().executeQuery("PRAGMA journal_mode")) {
        rows.next();
        return rows.getString(1);
      }
    })));
    assertEquals(1, pragma(sqlite(), "foreign_keys"));

    SqliteDeliveryStore normal = await(SqliteDeliveryStore.open(vertx, dir.resolve("normal.db"), "normal"));
    SqliteDeliveryStore off = await(SqliteDeliveryStore.open(vertx, dir.resolve("off.db"), "OFF"));
    assertEquals(1, pragma(normal, "synchronous"));
    assertEquals(0, pragma(off, "synchronous"));
    await(normal.close());
    await(off.close());
  }

  private static int pragma(SqliteDeliveryStore store, String name) {
    return await(store.inTransaction(c -> {
      try (ResultSet rows = c.createStatement().executeQuery("PRAGMA " + name)) {
        rows.next();
        return rows.getInt(1);
      }
    }));
  }

  @Test
  void anUnknownSynchronousModeIsRefused() {
    Throwable error = awaitFailure(SqliteDeliveryStore.open(vertx, dir.resolve("x.db"), "EXTRA"));

    assertTrue(error instanceof IllegalArgumentException);
    assertEquals("The store's synchronous mode must be FULL, NORMAL or OFF, got 'EXTRA'.", error.getMessage());
  }

  @Test
  void aFileThatCannotBeCreatedIsReportedWithItsPathAndReason() throws Exception {
    Path notADirectory = dir.resolve("plain-file");
    java.nio.file.Files.writeString(notADirectory, "x");
    Path target = notADirectory.resolve("leadrelay.db");

    Throwable error = awaitFailure(SqliteDeliveryStore.open(vertx, target, "FULL"));

    assertTrue(error instanceof IllegalStateException);
    assertTrue(error.getMessage().startsWith("Cannot open the delivery store " + target.toAbsolutePath()),
        error.getMessage());
    assertTrue(error.getMessage().contains("its directory cannot be created"), error.getMessage());
  }

  @Test
  void aFileThatIsNotADatabaseIsReportedClearly() throws Exception {
    Path garbage = dir.resolve("garbage.db");
    java.nio.file.Files.writeString(garbage, "this is not a SQLite database, just some text that is long enough");

    Throwable error = awaitFailure(SqliteDeliveryStore.open(vertx, garbage, "FULL"));

    assertTrue(error instanceof IllegalStateException);
    assertTrue(error.getMessage().startsWith("Cannot open the delivery store " + garbage), error.getMessage());
    assertTrue(error.getMessage().contains("not a database"), error.getMessage());
  }

  @Test
  void callsAfterCloseFail() {
    await(store.close());

    Throwable error = awaitFailure(store.find("d-01"));

    assertEquals("The delivery store is closed.", error.getMessage());
    store = open(vertx);
  }

  /** What an older release stored for the poison webhook: "a\ud800" became "a?", a duplicate key. */
  static final String POISON = "{\"name\":\"x\",\"a?\":1,\"a?\":2}";

  @Test
  void anUnreadableRowIsQuarantinedAndTheOthersAreStillClaimedListedAndFound() {
    acceptFree("d-01", "main", T0);
    await(store.close());
    io.leadrelay.testing.LegacyRows.insertPending(file, "d-02", "main", T0.toEpochMilli(), POISON);
    store = open(vertx);
    acceptFree("d-03", "main", T0);

    List<Delivery> claimed = await(store.claimDue(T0.plusSeconds(1), LEASE, 10));
    assertEquals(List.of("d-01", "d-03"), claimed.stream().map(Delivery::id).toList());
    DeliveryRecord poisoned = find("d-02");
    assertEquals(DeliveryState.DEAD, poisoned.state());
    assertTrue(poisoned.lastError().startsWith("stored payload cannot be read: "), poisoned.lastError());
    assertNull(poisoned.delivery().payload());
    assertEquals(POISON, poisoned.unreadablePayload(), "kept as stored, for recovery by hand");
    assertEquals(POISON, poisoned.toDetailJson().getString("unreadablePayload"));

    List<DeliveryRecord> listed = await(store.list(null, null, 10));
    assertEquals(3, listed.size());
    assertEquals(List.of(DeliveryState.PENDING, DeliveryState.DEAD, DeliveryState.PENDING),
        listed.stream().map(DeliveryRecord::state).toList());
    assertTrue(await(store.claimDue(T0.plusSeconds(60), LEASE, 10)).stream().noneMatch(d -> d.id().equals("d-02")));
  }

  @Test
  void listingAnUnreadablePendingRowIsEnoughToQuarantineIt() {
    await(store.close());
    io.leadrelay.testing.LegacyRows.insertPending(file, "d-02", "main", T0.toEpochMilli(), POISON);
    store = open(vertx);

    DeliveryRecord listed = await(store.list(DeliveryState.PENDING, null, 10)).get(0);
    assertEquals(DeliveryState.DEAD, listed.state(), "shown as it now is");
    assertEquals(DeliveryState.DEAD, find("d-02").state(), "and so it stays");
  }
}
