package io.leadrelay.delivery;

import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each named transition leaves the delivery in the state an operator would expect from its name. */
@ExtendWith(VertxExtension.class)
class DeliveriesTest {

  private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

  @TempDir
  Path dir;

  private SqliteDeliveryStore store;
  private Deliveries deliveries;

  @BeforeEach
  void open(Vertx vertx) {
    store = await(SqliteDeliveryStore.open(vertx, dir.resolve("leadrelay.db"), "NORMAL"));
    deliveries = new Deliveries(store);
    await(deliveries.accept(new NewDelivery(new Delivery("d1", "shop", T0, "203.0.113.7",
        new JsonObject().put("name", "Ivan")), "hash-d1"), Duration.ofSeconds(60), T0.plusSeconds(30)));
  }

  @AfterEach
  void close() {
    await(store.close());
  }

  @Test
  void heldForThePortalNothingIsCountedOrRecorded() {
    await(deliveries.holdForPortal("d1", T0.plusSeconds(5)));

    DeliveryRecord record = find();
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(T0.plusSeconds(5), record.nextAttemptAt());
    assertEquals(0, record.delivery().attempts());
    assertEquals(0, record.attemptsMade());
    assertEquals(null, record.leaseUntil());
  }

  @Test
  void retryLaterFollowsTheRetryDecision() {
    await(deliveries.retryLater("d1", new RetryPolicy.Retry(T0.plusSeconds(2), true, true), attempt("ambiguous")));

    DeliveryRecord record = find();
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(1, record.delivery().attempts());
    assertTrue(record.delivery().uncertain(), "the lead may exist: looked up before the next add");
    assertEquals(T0, record.delivery().firstFailedAt());
    assertEquals(List.of("ambiguous"), record.history().stream().map(Attempt::outcome).toList());
  }

  @Test
  void waitingForAPausedPortalRecordsTheAttemptWithoutCountingIt() {
    await(deliveries.waitForPortal("d1", T0.plusSeconds(30), attempt("portal_failure")));

    DeliveryRecord record = find();
    assertEquals(0, record.delivery().attempts());
    assertFalse(record.delivery().uncertain());
    assertEquals(1, record.attemptsMade());
    assertEquals(T0.plusSeconds(30), record.nextAttemptAt());
  }

  @Test
  void aQuarantinedDeliveryIsDeadWithItsReasonAndCanBeReplayed() {
    await(deliveries.quarantine("d1", "No mapping is configured for integration \"shop\".", T0));

    DeliveryRecord record = find();
    assertEquals(DeliveryState.DEAD, record.state());
    assertEquals("No mapping is configured for integration \"shop\".", record.lastError());
    assertEquals("rejected", record.history().get(0).outcome());

    assertTrue(await(deliveries.replay("d1", T0.plusSeconds(60))));
    assertEquals(DeliveryState.PENDING, find().state());
  }

  @Test
  void aDeliveredDeliveryIsNeverReplayed() {
    await(deliveries.markDelivered("d1", 42L, attempt("created")));

    assertFalse(await(deliveries.replay("d1", T0.plusSeconds(60))));
    assertEquals(0, await(deliveries.replayAll(DeliveryState.DEAD, T0.plusSeconds(60))));
    assertEquals(42L, find().leadId());
  }

  private DeliveryRecord find() {
    return await(store.find("d1")).orElseThrow();
  }

  private static Attempt attempt(String outcome) {
    return new Attempt(T0, outcome, null, null, null, null, new JsonObject().put("TITLE", "Ivan"));
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
