package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.delivery.RetryPolicy;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.Fence;
import io.leadrelay.store.Fenced;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an outcome means for a delivery, without a portal: each outcome is handed in as the sending loop would
 * report it, and the store and the announcements show the result.
 */
@ExtendWith(VertxExtension.class)
class DeliveryOutcomesTest {

  @TempDir
  Path dir;

  private Vertx vertx;
  private SqliteDeliveryStore store;
  private DeliveryOutcomes outcomes;
  private PortalSender portal;
  private final LeadCommand command = new LeadCommand("d1", "main", Instant.now(),
      new JsonObject().put("TITLE", "Лид").put("ORIGIN_ID", "d1"), new JsonObject());

  @BeforeEach
  void open(Vertx vertx) {
    this.vertx = vertx;
    store = await(SqliteDeliveryStore.open(vertx, dir.resolve("leadrelay.db"), "NORMAL"));
    await(store.accept(new NewDelivery(new Delivery("d1", "main", Instant.now(), "203.0.113.7", new JsonObject()),
        "hash-d1"), Duration.ZERO, Instant.now().plusSeconds(30)));
    outcomes = new DeliveryOutcomes(new Deliveries(store), new RetryPolicy(TestRelay.FAST, new Random(1)),
        vertx.eventBus(), List.of("main"));
    // Never contacted: the outcomes are handed in directly.
    PortalConfig config = PortalConfig.parse("test", "https://portal.invalid/rest/1/code0123456789/");
    portal = new PortalSender(config, new BitrixClient(vertx, TestRelay.BITRIX, new PortalTokens(null, Map.of())),
        TestRelay.BITRIX, BitrixLimits.standard(), TestRelay.FAST, (delay, task) -> { }, Clock.systemUTC(), 10);
    portal.users().add("main");
    assertTrue(outcomes.take("d1"));
  }

  @AfterEach
  void close() {
    await(store.close());
  }

  @Test
  void aCreatedLeadIsRecordedThenAnnouncedAndTheDeliveryReleased() {
    Future<JsonObject> announced = next(Addresses.LEAD_CREATED);

    outcomes.record(portal, command, new SendOutcome.Sent(4711, false));

    assertEquals(4711L, LeadCreated.fromJson(await(announced)).leadId());
    DeliveryRecord record = find();
    assertEquals(DeliveryState.DELIVERED, record.state());
    assertEquals(4711L, record.leadId());
    assertTrue(outcomes.take("d1"), "no longer owned once recorded");
  }

  @Test
  void aRejectedLeadIsDeadWithBitrixReason() {
    Future<JsonObject> announced = next(Addresses.LEAD_FAILED);

    outcomes.record(portal, command, new SendOutcome.Failed(new BitrixError(ErrorClass.LEAD_REJECTED, 400, "",
        "Не заполнено обязательное поле \"Телефон\"")));

    ErrorEvent event = ErrorEvent.fromJson(await(announced));
    assertEquals("dead: replay it with the admin API once fixed", event.next());
    DeliveryRecord record = find();
    assertEquals(DeliveryState.DEAD, record.state());
    assertTrue(record.lastError().contains("Телефон"), record.lastError());
  }

  @Test
  void aPortalFailurePausesThePortalAndTheDeliveryWaitsUncounted() {
    Future<JsonObject> announced = next(Addresses.LEAD_FAILED);

    outcomes.record(portal, command, new SendOutcome.Failed(new BitrixError(ErrorClass.PORTAL_FAILURE, 503, null,
        "Service Unavailable")));

    assertEquals("waiting for the portal", ErrorEvent.fromJson(await(announced)).next());
    assertTrue(portal.state().paused());
    DeliveryRecord record = find();
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(0, record.delivery().attempts(), "a broken portal is not the lead's fault");
    assertFalse(record.delivery().uncertain());
  }

  @Test
  void aHeldLeadGoesBackToTheStoreWithNothingRecorded() {
    Instant until = Instant.now().plusSeconds(5);

    outcomes.record(portal, command, new SendOutcome.Held(until));

    DeliveryRecord record = awaitRecorded();
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(0, record.attemptsMade());
    assertEquals(until.toEpochMilli(), record.nextAttemptAt().toEpochMilli());
  }

  @Test
  void anOutcomeFencedByANewOwnerChangesNothingAndIsNotAnnounced() {
    // The store as a shared one answers once another node has taken the portal (its contract test shows when).
    DeliveryStore fencing = (DeliveryStore) Proxy.newProxyInstance(DeliveryStore.class.getClassLoader(),
        new Class<?>[] {DeliveryStore.class}, (proxy, method, args) -> method.getName().equals("markDelivered")
            && args.length == 4 && args[3] != null
            ? Future.failedFuture(new Fenced((String) args[0], (Fence) args[3]))
            : method.invoke(store, args));
    DeliveryOutcomes fenced = new DeliveryOutcomes(new Deliveries(fencing),
        new RetryPolicy(TestRelay.FAST, new Random(1)), vertx.eventBus(), List.of("main"));
    portal.startOwning(new Fence("https://portal.invalid", 3), () -> true, Instant.now());
    assertTrue(fenced.take("d1"));
    Future<JsonObject> announced = next(Addresses.LEAD_CREATED);

    fenced.record(portal, command, new SendOutcome.Sent(4711, false));

    vertx.eventBus().publish(Addresses.LEAD_CREATED, new JsonObject().put("marker", true));
    assertTrue(await(announced).getBoolean("marker", false), "the fenced outcome was announced");
    assertEquals(DeliveryState.PENDING, find().state(), "the new owner's to record");
    assertTrue(fenced.take("d1"), "released here");
  }

  @Test
  void anOutcomeArrivingAfterThePortalWasLostIsNotRecorded() {
    portal.startOwning(new Fence("https://portal.invalid", 3), () -> true, Instant.now());
    portal.standBy();

    outcomes.record(portal, command, new SendOutcome.Sent(4711, false));

    DeliveryRecord record = find();
    assertEquals(DeliveryState.PENDING, record.state(), "the new owner looks the lead up and records it");
    assertEquals(0, record.attemptsMade());
    assertTrue(outcomes.take("d1"), "released here");
  }

  @Test
  void aLeadDroppedUnsentWhenThePortalWasLostGoesBackToTheStoreDueNow() {
    portal.startOwning(new Fence("https://portal.invalid", 3), () -> true, Instant.now());
    portal.standBy();
    Instant before = Instant.now();

    outcomes.record(portal, command, new SendOutcome.NotOwner());
    await(outcomes.givenBack());

    DeliveryRecord record = awaitRecorded();
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(null, record.leaseUntil(), "free for the portal's owner to claim");
    Instant due = record.nextAttemptAt();
    assertFalse(due.isAfter(Instant.now()) || due.isBefore(before.minusSeconds(1)), "due now: " + due);
    assertEquals(0, record.attemptsMade());
    assertFalse(record.delivery().uncertain(), "it was never sent");
    assertTrue(outcomes.take("d1"), "released here");
  }

  /** The next message published on the address. */
  private Future<JsonObject> next(String address) {
    Promise<JsonObject> message = Promise.promise();
    vertx.eventBus().<JsonObject>consumer(address, m -> message.tryComplete(m.body()));
    return message.future();
  }

  /** Waits until the delivery is released (its outcome recorded): the lease is cleared then. */
  private DeliveryRecord awaitRecorded() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    DeliveryRecord record = find();
    while (record.leaseUntil() != null && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      record = find();
    }
    return record;
  }

  private DeliveryRecord find() {
    return await(store.find("d1")).orElseThrow();
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
