package io.leadrelay.store;

import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract on the shared PostgreSQL store, and what only it has: the database's clock, owners and epochs. */
class PgDeliveryStoreTest extends DeliveryStoreContract {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  @AfterEach
  void emptyTables() {
    database.execute("TRUNCATE deliveries, attempts_log, repeat_guard, portal_tokens, webhook_secrets, portal_leases");
  }

  @Override
  protected DeliveryStore open(Vertx vertx) {
    return opened(PgDeliveryStore.open(vertx, database.settings(), "node-a", StoreClock.caller()));
  }

  @Override
  protected DeliveryStore otherNode() {
    return opened(PgDeliveryStore.open(vertx, database.settings(), "node-b", StoreClock.caller()));
  }

  /**
   * Opening runs Flyway over JDBC, whose first run in a JVM loads and warms a lot of code: on a busy machine that
   * alone took more than the 5 s every store operation is given.
   */
  private static PgDeliveryStore opened(Future<PgDeliveryStore> opening) {
    try {
      return opening.await(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the store did not open within 30 s", e);
    }
  }

  @Override
  protected Fence ownPortal(String portal) {
    database.execute("INSERT INTO portal_leases (portal, owner, epoch, expires_at) VALUES ('" + portal + "', "
        + "'node-a', 3, now() + interval '1 minute')");
    return new Fence(portal, 3);
  }

  @Override
  protected boolean takeOver(String portal) {
    database.execute("UPDATE portal_leases SET owner = 'node-b', epoch = epoch + 1 WHERE portal = '" + portal + "'");
    return true;
  }

  @Override
  protected int historyRows(String id) {
    return one("SELECT COUNT(*) FROM attempts_log WHERE delivery_id = $1", id).getLong(0).intValue();
  }

  @Override
  protected void setLeaseUntil(String id, Instant until) {
    // As node-a (this test's store) renewing its own lease.
    database.execute("UPDATE deliveries SET lease_until = " + until.toEpochMilli() + ", lease_owner = 'node-a' "
        + "WHERE id = '" + id + "'");
  }

  @Override
  protected long commits() {
    return ((PgDeliveryStore) store).acceptGroups();
  }

  @Override
  protected String duplicateIdRefusal() {
    return "duplicate key";
  }

  private Row one(String sql, Object parameter) {
    return await(((PgDeliveryStore) store).client().preparedQuery(sql).execute(Tuple.of(parameter)))
        .iterator().next();
  }

  @Test
  void theDatabaseClockDecidesLeasesWhateverANodesClockSays() {
    Clock real = Clock.systemUTC();
    PgDeliveryStore onTime = await(PgDeliveryStore.open(vertx, database.settings(), "on-time",
        StoreClock.database(real)));
    Clock hourAhead = Clock.offset(real, Duration.ofHours(1));
    PgDeliveryStore ahead = await(PgDeliveryStore.open(vertx, database.settings(), "ahead",
        StoreClock.database(hourAhead)));
    Instant now = real.instant();
    await(onTime.accept(webhook("d-01", "main", now, "h1"), WINDOW, now.plus(LEASE)));
    await(onTime.accept(webhook("d-02", "main", now, "h2"), WINDOW, null));
    await(onTime.reschedule("d-02", now.plusSeconds(600), true, true, false, attempt(now, "portal_failure", "x")));

    assertTrue(await(ahead.claimDue(hourAhead.instant(), LEASE, 10)).isEmpty(),
        "by the database's clock d-01's lease holds and d-02 is due in 10 minutes, not 50 minutes ago");
    Row leased = one("SELECT lease_until - leadrelay_now_ms() FROM deliveries WHERE id = $1", "d-01");
    long leftMillis = leased.getLong(0);
    assertTrue(leftMillis > 25_000 && leftMillis <= 30_000, "the lease runs 30 s on the database's clock: "
        + leftMillis);
    await(onTime.close());
    await(ahead.close());
  }

  @Test
  void everyClaimRecordsItsNodeAndRaisesTheEpoch() {
    acceptFree("d-01", "main", T0);
    DeliveryStore other = otherNode();

    await(store.claimDue(T0.plusSeconds(1), LEASE, 10));
    Row first = one("SELECT lease_owner, lease_epoch FROM deliveries WHERE id = $1", "d-01");
    // node-a's lease runs out (its node died): node-b takes the delivery over.
    List<Delivery> takenOver = await(other.claimDue(T0.plus(LEASE).plusSeconds(1), LEASE, 10));
    Row second = one("SELECT lease_owner, lease_epoch FROM deliveries WHERE id = $1", "d-01");
    await(store.renewLeases(List.of("d-01"), T0.plusSeconds(3600)));

    assertEquals("node-a", first.getString(0));
    assertEquals(1L, first.getLong(1));
    assertEquals(1, takenOver.size());
    assertTrue(takenOver.get(0).uncertain(), "the first node may have created the lead");
    assertEquals("node-b", second.getString(0));
    assertEquals(2L, second.getLong(1), "a new epoch: outcomes can be fenced by it");
    assertEquals(T0.plus(LEASE).plusSeconds(1).plus(LEASE), find("d-01").leaseUntil(),
        "the old owner can no longer renew a lease it lost");
    await(other.close());
  }

  @Test
  void copiesOfABodyInOneGroupAreRepeatsOfTheFirstOrWithoutAWindowDeliveriesOfTheirOwn() {
    await(store.accept(webhook("d-old", "main", T0, "body-c"), WINDOW, null));
    Instant at = T0.plusSeconds(1);
    List<Future<Accepted>> accepts = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      accepts.add(store.accept(webhook("d-a" + i, "main", at, "body-a"), WINDOW, null));
    }
    for (int i = 0; i < 3; i++) {
      accepts.add(store.accept(webhook("d-b" + i, "main", at, "body-b"), Duration.ZERO, null));
    }
    accepts.add(store.accept(webhook("d-c", "main", at, "body-c"), WINDOW, null));
    Delivery noAddress = new Delivery("d-x", "main", at, null, payload("{\"price\":9000.00}"));
    accepts.add(store.accept(new NewDelivery(noAddress, "body-x"), WINDOW, at.plus(LEASE)));
    await(Future.join(accepts));

    List<Accepted> answers = accepts.stream().map(Future::result).toList();
    for (int i = 0; i < 5; i++) {
      assertEquals(new Accepted("d-a0", i > 0), answers.get(i), "copy " + i + " of body-a");
    }
    for (int i = 5; i < 8; i++) {
      assertEquals(new Accepted("d-b" + (i - 5), false), answers.get(i), "no window: each its own delivery");
    }
    assertEquals(new Accepted("d-old", true), answers.get(8));
    assertEquals(new Accepted("d-x", false), answers.get(9));
    assertEquals(5, one("SELECT COUNT(*) FROM deliveries WHERE received_at = $1", at.toEpochMilli())
        .getLong(0).intValue(), "d-a0, d-b0..2 and d-x, and nothing for the repeats");
    DeliveryRecord x = find("d-x");
    assertEquals(null, x.delivery().remoteAddress());
    assertEquals("{\"price\":9000.00}", x.delivery().payload().encode());
    assertEquals(at.plus(LEASE), x.leaseUntil());
  }

  @Test
  void concurrentOutcomesShareCommitsAndABadOneFailsAlone() {
    int count = 600;
    for (int i = 0; i < count; i++) {
      acceptFree(String.format("d-%04d", i), "main", T0);
    }
    Fence fence = ownPortal("portal.example");
    takeOver("portal.example");
    long groupsBefore = ((PgDeliveryStore) store).outcomeGroups();
    Instant at = T0.plusSeconds(1);

    List<Future<Void>> delivered = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = String.format("d-%04d", i);
      delivered.add(i % 3 == 0
          ? store.markDead(id, "no mapping", attempt(at, "rejected", "no mapping"))
          : store.markDelivered(id, 1000L + i, new Attempt(at, "created", null, 200, null, null, null)));
    }
    // Committed among them: a delivery nobody has, a stale owner's outcome, and one PostgreSQL refuses outright
    // (a NUL character in text), which aborts its group's transaction.
    Future<Void> unknown = store.markDelivered("d-none", 1L, new Attempt(at, "created", null, 200, null, null, null));
    Future<Void> stale = store.markDelivered("d-0001", 1L, new Attempt(at, "created", null, 200, null, null, null),
        fence);
    Future<Void> refused = store.markDead("d-0002", "bad\u0000reason", attempt(at, "rejected", "x"));
    await(Future.join(delivered).otherwiseEmpty());

    assertTrue(delivered.stream().allMatch(Future::succeeded), "every good outcome is recorded");
    assertInstanceOf(NoSuchElementException.class, awaitFailure(unknown));
    assertInstanceOf(Fenced.class, awaitFailure(stale));
    assertTrue(awaitFailure(refused).getMessage().contains("0x00"), "the bad one fails with its own reason");
    assertEquals(DeliveryState.DEAD, find("d-0000").state());
    assertEquals(DeliveryState.DELIVERED, find("d-0001").state());
    assertEquals(1001L, find("d-0001").leadId(), "the stale owner changed nothing");
    assertEquals(DeliveryState.DELIVERED, find("d-0002").state());
    assertEquals(1, historyRows("d-0002"), "the refused outcome left no history");
    assertEquals(count - count / 3, one("SELECT COUNT(*) FROM deliveries WHERE state = $1", "DELIVERED")
        .getLong(0).intValue());
    assertEquals(count, one("SELECT COUNT(*) FROM attempts_log WHERE at = $1", at.toEpochMilli())
        .getLong(0).intValue(), "one history row per recorded outcome");
    long groups = ((PgDeliveryStore) store).outcomeGroups() - groupsBefore;
    assertTrue(groups <= count / 10, "expected group commits, got " + groups + " for " + count + " outcomes");
  }

  @Test
  void commitsWaitForTheDiskEvenWhereTheDatabaseSaysOtherwise() {
    database.execute("ALTER DATABASE " + database.settings().database() + " SET synchronous_commit = off");
    try {
      reopen();
      Row setting = one("SELECT current_setting($1)", "synchronous_commit");

      assertEquals("on", setting.getString(0), "an accepted webhook must survive a crash of the database server");
    } finally {
      database.execute("ALTER DATABASE " + database.settings().database() + " RESET synchronous_commit");
    }
  }

  @Test
  void anUnusableDatabaseIsRefusedInOneSentenceWithThePasswordMasked() {
    PgSettings wrong = new PgSettings(database.settings().host(), database.settings().port(), "no_such_database_x",
        "postgres", "s3cret-Passw0rd", io.vertx.pgclient.SslMode.DISABLE, 2);

    Throwable error = awaitFailure(PgDeliveryStore.open(vertx, wrong, "n"));

    assertTrue(error instanceof StoreRefusal, String.valueOf(error));
    assertTrue(error.getMessage().startsWith("Cannot use the delivery store postgresql://postgres:***@"),
        error.getMessage());
    assertTrue(error.getMessage().contains("no_such_database_x"), error.getMessage());
    assertFalse(error.getMessage().contains("s3cret-Passw0rd"));
  }

  @Test
  void rowsWrittenWithoutTheSearchColumnAreFilledWhenANodeStarts() {
    acceptFree("d-old", "main", T0);
    // As a node of the release before the search column wrote it.
    database.execute("UPDATE deliveries SET subscriber = NULL WHERE id = 'd-old'");
    DeliveryFilter ivan = new DeliveryFilter(null, null, null, null, SubscriberText.needle("IVAN"), null);
    assertTrue(await(store.search(ivan, 10)).isEmpty(), "not searchable while the column is empty");

    reopen();

    assertEquals("d-old", await(store.search(ivan, 10)).get(0).delivery().id());
  }

  @Test
  void aDatabaseMigratedByANewerReleaseIsRefused() {
    database.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, "
        + "checksum, installed_by, execution_time, success) VALUES (999, '999', 'from the future', 'SQL', "
        + "'V999__future.sql', 0, 'postgres', 0, TRUE)");
    try {
      Throwable error = awaitFailure(PgDeliveryStore.open(vertx, database.settings(), "n"));

      assertTrue(error instanceof StoreRefusal, String.valueOf(error));
      assertTrue(error.getMessage().contains("has schema version 999, newer than this LeadRelay knows"),
          error.getMessage());
    } finally {
      database.execute("DELETE FROM flyway_schema_history WHERE version = '999'");
    }
  }
}
