package io.leadrelay.store;

import io.leadrelay.http.PayloadParser;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link DeliveryStore} contract, run against every store (SQLite, PostgreSQL) by a subclass that says how to
 * open one. Times are a fixed clock the test drives ({@code T0} and later); a shared store is opened here with the
 * caller's clock, and its own tests show that in production the database's clock decides.
 */
@ExtendWith(VertxExtension.class)
abstract class DeliveryStoreContract {

  static final Instant T0 = Instant.parse("2025-03-01T10:00:00.123Z");
  static final Duration WINDOW = Duration.ofSeconds(60);
  static final Duration LEASE = Duration.ofSeconds(30);

  protected Vertx vertx;
  protected DeliveryStore store;

  /** A store on the subclass's storage (the same storage every time within one test). */
  protected abstract DeliveryStore open(Vertx vertx);

  /**
   * Another node's store on the same storage, for concurrency: a second instance for a shared store, the same one
   * for a single-node store (whose "nodes" are its concurrent callers).
   */
  protected abstract DeliveryStore otherNode();

  /** History rows the storage holds for a delivery, whether or not the delivery is still there. */
  protected abstract int historyRows(String id);

  /** Transactions the store's accepts were committed in so far. */
  protected abstract long commits();

  /** Words of the store's own refusal of a second delivery with an existing id. */
  protected abstract String duplicateIdRefusal();

  /** Sets a delivery's lease as a driver that renewed it would have (not a store operation of its own). */
  protected abstract void setLeaseUntil(String id, Instant until);

  /** This test's node becomes the portal's owner: the fence its outcome writes carry. */
  protected abstract Fence ownPortal(String portal);

  /** Another node takes the portal over (a new epoch); false when no other node can (a single-node store). */
  protected abstract boolean takeOver(String portal);

  @BeforeEach
  void openStore(Vertx vertx) {
    this.vertx = vertx;
    store = open(vertx);
  }

  @AfterEach
  void closeStore() {
    await(store.close());
  }

  protected void reopen() {
    await(store.close());
    store = open(vertx);
  }

  static JsonObject payload(String json) {
    return PayloadParser.parse(PayloadParser.JSON, json.getBytes(StandardCharsets.UTF_8));
  }

  static NewDelivery webhook(String id, String integration, Instant receivedAt, String bodyHash) {
    JsonObject payload = payload("{\"name\":\"Ivan\",\"phone\":\"+79990001122\",\"id\":\"" + id + "\"}");
    return new NewDelivery(new Delivery(id, integration, receivedAt, "203.0.113.7", payload), bodyHash);
  }

  /** A delivery accepted at {@code at} and already released by its first driver (as after one attempt). */
  void acceptFree(String id, String integration, Instant at) {
    await(store.accept(webhook(id, integration, at, "hash-" + id), WINDOW, null));
  }

  /** One counted attempt that failed at {@code at}; the delivery waits until {@code next}. */
  void failedOnce(String id, Instant at, Instant next) {
    await(store.reschedule(id, next, true, true, false, attempt(at, "portal_failure", "503")));
  }

  static Attempt attempt(Instant at, String outcome, String description) {
    return new Attempt(at, outcome, "PORTAL_FAILURE", 503, "QUERY_LIMIT_EXCEEDED", description, null);
  }

  DeliveryRecord find(String id) {
    return await(store.find(id)).orElseThrow();
  }

  @Test
  void anAcceptedDeliveryIsOnDiskAfterCloseAndReopen() {
    Instant leaseUntil = T0.plus(LEASE);
    Accepted accepted = await(store.accept(webhook("d-01", "main", T0, "h1"), WINDOW, leaseUntil));
    assertEquals(new Accepted("d-01", false), accepted);

    reopen();

    DeliveryRecord record = find("d-01");
    Delivery d = record.delivery();
    assertEquals("main", d.integration());
    assertEquals(T0, d.receivedAt(), "milliseconds are kept");
    assertEquals("203.0.113.7", d.remoteAddress());
    assertEquals("Ivan", d.payload().getString("name"));
    assertEquals(0, d.attempts());
    assertFalse(d.uncertain());
    assertNull(d.firstFailedAt());
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(T0, record.nextAttemptAt(), "due at once");
    assertEquals(leaseUntil, record.leaseUntil(), "leased to the driver that accepted it");
    assertNull(record.leadId());
    assertTrue(record.history().isEmpty());
  }

  @Test
  void thePayloadComesBackWithItsKeyOrderAndNumbersAsWritten() {
    String body = "{\"zeta\":1,\"price\":1.50,\"big\":123456789012345678901234567890,\"tiny\":1E-7,"
        + "\"text\":\"Привет, \\\"мир\\\"\",\"nothing\":null,\"yes\":true,"
        + "\"nested\":{\"b\":[1,2.0,\"x\"],\"a\":{}}}";
    Delivery d = new Delivery("d-01", "main", T0, null, payload(body));
    await(store.accept(new NewDelivery(d, "h"), WINDOW, null));

    JsonObject stored = find("d-01").delivery().payload();
    assertEquals(body, stored.encode());
    assertEquals("1.50", stored.getValue("price").toString());
  }

  @Test
  void everyPayloadTheIntakeAcceptsReadsBackEqualFromTheStore() {
    // Whatever passes the webhook parser must come back from the file equal: keys and values with every kind of
    // character the parser lets through (the ones it refuses, lone surrogates and NUL, are refused at intake).
    List<String> bodies = List.of(
        "{\"a?\":1,\"a\\ud83d\\ude00\":2,\"😀\":\"🇯🇵 \\ud83d\\ude00\"}",
        "{\"ctl\":\"\\u0001\\u001f\\u007f\\t\\n\\r\\b\\f\",\"sep\":\"\\u2028\\u2029\\ufeff\\ufffd\"}",
        "{\"q\":\"\\\"\\\\/\\\\u0041\",\"кириллица\":\"Ёё ў\",\"n\":-0.0,\"e\":1E+2,\"z\":0}",
        "{\"deep\":[[[{\"x\":[null,true,false,\"\"]}]]],\"empty\":{},\"list\":[]}");
    for (int i = 0; i < bodies.size(); i++) {
      JsonObject sent = payload(bodies.get(i));
      String id = "d-rt-" + i;
      await(store.accept(new NewDelivery(new Delivery(id, "main", T0, null, sent), "h-" + id), WINDOW, null));
      JsonObject stored = find(id).delivery().payload();
      assertEquals(sent, stored, bodies.get(i));
      assertEquals(sent.encode(), stored.encode(), bodies.get(i));
    }
  }

  @Test
  void theSameBodyWithinTheWindowIsTheSameDelivery() {
    await(store.accept(webhook("d-01", "main", T0, "same"), WINDOW, null));

    Accepted repeat = await(store.accept(webhook("d-02", "main", T0.plus(WINDOW), "same"), WINDOW, null));
    Accepted otherIntegration = await(store.accept(webhook("d-03", "other", T0.plusSeconds(1), "same"), WINDOW, null));
    Accepted otherBody = await(store.accept(webhook("d-04", "main", T0.plusSeconds(1), "different"), WINDOW, null));
    Accepted later = await(store.accept(webhook("d-05", "main", T0.plus(WINDOW).plusMillis(1), "same"), WINDOW, null));

    assertEquals(new Accepted("d-01", true), repeat);
    assertEquals(new Accepted("d-03", false), otherIntegration);
    assertEquals(new Accepted("d-04", false), otherBody);
    assertEquals(new Accepted("d-05", false), later, "outside the window it is a new delivery");
    assertTrue(await(store.find("d-02")).isEmpty(), "a repeat stores nothing");
  }

  @Test
  void aRepeatOfADeliveredDeliveryIsStillARepeat() {
    await(store.accept(webhook("d-01", "main", T0, "same"), WINDOW, null));
    await(store.markDelivered("d-01", 42L, attempt(T0.plusSeconds(1), "created", null)));

    Accepted repeat = await(store.accept(webhook("d-02", "main", T0.plusSeconds(2), "same"), WINDOW, null));

    assertEquals(new Accepted("d-01", true), repeat);
  }

  @Test
  void claimDueLeasesDueDeliveriesOldestFirstAndOnlyOnce() {
    acceptFree("d-01", "main", T0.plusSeconds(2));
    acceptFree("d-02", "main", T0);
    acceptFree("d-03", "main", T0.plusSeconds(1));
    acceptFree("d-04", "main", T0.plusSeconds(60));
    await(store.accept(webhook("d-05", "main", T0, "leased"), WINDOW, T0.plusSeconds(30)));

    Instant now = T0.plusSeconds(10);
    List<Delivery> first = await(store.claimDue(now, LEASE, 2));
    List<Delivery> second = await(store.claimDue(now, LEASE, 10));
    List<Delivery> third = await(store.claimDue(now, LEASE, 10));

    assertEquals(List.of("d-02", "d-03"), first.stream().map(Delivery::id).toList());
    assertEquals(List.of("d-01"), second.stream().map(Delivery::id).toList(),
        "not yet due (d-04) and still leased (d-05) are left");
    assertTrue(third.isEmpty(), "claimed ones are leased");
    assertFalse(first.get(0).uncertain(), "a free delivery is claimed as it was");
    assertEquals(now.plus(LEASE), find("d-02").leaseUntil());
  }

  @Test
  void aDeliveryWhoseLeaseExpiredComesBackUncertainAndStaysSo() {
    await(store.accept(webhook("d-01", "main", T0, "h"), WINDOW, T0.plus(LEASE)));

    assertTrue(await(store.claimDue(T0.plusSeconds(29), LEASE, 10)).isEmpty(), "its driver still holds it");
    List<Delivery> reclaimed = await(store.claimDue(T0.plus(LEASE), LEASE, 10));

    assertEquals(1, reclaimed.size());
    assertTrue(reclaimed.get(0).uncertain(), "its driver was lost, maybe after the lead was created");
    assertTrue(find("d-01").delivery().uncertain());

    failedOnce("d-01", T0.plusSeconds(31), T0.plusSeconds(90));
    assertTrue(find("d-01").delivery().uncertain(), "a later attempt never clears the mark");
  }

  @Test
  void rescheduleCountsAttemptsAndRemembersWhenTheFailuresBegan() {
    await(store.accept(webhook("d-01", "main", T0, "h"), WINDOW, T0.plus(LEASE)));
    Instant first = T0.plusSeconds(1);
    JsonObject fields = new JsonObject().put("TITLE", "Lead from Ivan");

    await(store.reschedule("d-01", T0.plusSeconds(60), false, false, false,
        new Attempt(first, "held", null, null, null, null, null)));
    DeliveryRecord held = find("d-01");
    assertEquals(0, held.delivery().attempts(), "a refusal before execution does not count");
    assertNull(held.delivery().firstFailedAt());
    assertEquals("held", held.lastError(), "without a description the outcome is the last error");

    await(store.reschedule("d-01", T0.plusSeconds(120), true, true, false,
        new Attempt(T0.plusSeconds(61), "portal_failure", "PORTAL_FAILURE", 500, "INTERNAL", "Internal error",
            fields)));
    await(store.reschedule("d-01", T0.plusSeconds(300), true, true, true,
        attempt(T0.plusSeconds(121), "ambiguous", "timeout after 300 ms")));

    DeliveryRecord record = find("d-01");
    assertEquals(2, record.delivery().attempts());
    assertEquals(T0.plusSeconds(61), record.delivery().firstFailedAt(), "the run of failures keeps its start");
    assertTrue(record.delivery().uncertain());
    assertEquals(DeliveryState.PENDING, record.state());
    assertEquals(T0.plusSeconds(300), record.nextAttemptAt());
    assertNull(record.leaseUntil(), "the lease is released");
    assertEquals("timeout after 300 ms", record.lastError());
    assertEquals(fields, record.lastFields(), "the last fields sent are kept when a later attempt has none");
    assertEquals(T0.plusSeconds(121), record.updatedAt());
    assertEquals(List.of("held", "portal_failure", "ambiguous"),
        record.history().stream().map(Attempt::outcome).toList());
    Attempt logged = record.history().get(1);
    assertEquals(new Attempt(T0.plusSeconds(61), "portal_failure", "PORTAL_FAILURE", 500, "INTERNAL",
        "Internal error", null), logged);
  }

  @Test
  void markDeliveredRecordsTheLeadOnceAndLateOutcomesDoNotResurrectIt() {
    await(store.accept(webhook("d-01", "main", T0, "h"), WINDOW, T0.plus(LEASE)));
    Instant at = T0.plusSeconds(2);

    await(store.markDelivered("d-01", 4711L, new Attempt(at, "created", null, 200, null, null, null)));
    await(store.markDelivered("d-01", 9999L, new Attempt(at.plusSeconds(1), "found", null, 200, null, null, null)));
    await(store.reschedule("d-01", T0.plusSeconds(60), true, true, true,
        attempt(at.plusSeconds(2), "ambiguous", "reset")));
    await(store.markDead("d-01", "too old", attempt(at.plusSeconds(3), "expired", null)));

    DeliveryRecord record = find("d-01");
    assertEquals(DeliveryState.DELIVERED, record.state());
    assertEquals(4711L, record.leadId());
    assertEquals(at, record.deliveredAt());
    assertNull(record.leaseUntil());
    assertEquals(0, record.delivery().attempts());
    assertFalse(record.delivery().uncertain());
    assertEquals(List.of("created"), record.history().stream().map(Attempt::outcome).toList());
  }

  @Test
  void aDeadDeliveryStaysDeadUntilRetried() {
    await(store.accept(webhook("d-01", "main", T0, "h"), WINDOW, T0.plus(LEASE)));
    failedOnce("d-01", T0.plusSeconds(1), T0.plusSeconds(60));

    await(store.markDead("d-01", "Bitrix24 refused the lead: field PHONE is invalid",
        new Attempt(T0.plusSeconds(61), "rejected", "REJECTED", 400, "ERROR_CORE", "PHONE is invalid", null)));
    failedOnce("d-01", T0.plusSeconds(62), T0.plusSeconds(120));

    DeliveryRecord record = find("d-01");
    assertEquals(DeliveryState.DEAD, record.state());
    assertEquals("Bitrix24 refused the lead: field PHONE is invalid", record.lastError());
    assertEquals(1, record.delivery().attempts());
    assertNull(record.leaseUntil());
    assertTrue(await(store.claimDue(T0.plusSeconds(3600), LEASE, 10)).isEmpty(), "a DEAD one is never claimed");
    assertEquals(List.of("portal_failure", "rejected"), record.history().stream().map(Attempt::outcome).toList());
  }

  @Test
  void outcomesForAnUnknownDeliveryFail() {
    Attempt attempt = attempt(T0, "created", null);

    assertTrue(awaitFailure(store.markDelivered("nope", 1L, attempt)) instanceof NoSuchElementException);
    assertTrue(awaitFailure(store.reschedule("nope", T0, true, true, false, attempt))
        instanceof NoSuchElementException);
    assertTrue(awaitFailure(store.markDead("nope", "x", attempt)) instanceof NoSuchElementException);
  }

  @Test
  void retryReplaysDeadAndPendingButNeverDelivered() {
    acceptFree("d-01", "main", T0);
    acceptFree("d-02", "main", T0);
    acceptFree("d-03", "main", T0);
    failedOnce("d-01", T0.plusSeconds(1), T0.plusSeconds(60));
    await(store.markDead("d-01", "kept failing", attempt(T0.plusSeconds(61), "expired", null)));
    await(store.markDelivered("d-02", 7L, attempt(T0.plusSeconds(1), "created", null)));
    Instant now = T0.plusSeconds(3600);

    assertTrue(await(store.retry("d-01", now)));
    assertFalse(await(store.retry("d-02", now)), "a second lead must not be made");
    assertFalse(await(store.retry("missing", now)));
    assertTrue(await(store.retry("d-03", now)));

    DeliveryRecord replayed = find("d-01");
    assertEquals(DeliveryState.PENDING, replayed.state());
    assertEquals(now, replayed.nextAttemptAt());
    assertNull(replayed.delivery().firstFailedAt(), "the run of failures is forgotten");
    assertEquals(1, replayed.delivery().attempts(), "attempts are kept");
    assertEquals(2, replayed.history().size(), "history is kept");
    assertEquals(DeliveryState.DELIVERED, find("d-02").state());
    assertEquals(List.of("d-01", "d-03"), await(store.claimDue(now, LEASE, 10)).stream().map(Delivery::id).toList());
  }

  @Test
  void retryAllReplaysEveryDeliveryInTheState() {
    for (String id : List.of("d-01", "d-02", "d-03")) {
      acceptFree(id, "main", T0);
    }
    await(store.markDead("d-01", "refused", attempt(T0.plusSeconds(1), "rejected", null)));
    await(store.markDead("d-02", "refused", attempt(T0.plusSeconds(1), "rejected", null)));

    assertEquals(2, await(store.retryAll(DeliveryState.DEAD, T0.plusSeconds(5))));
    assertEquals(0, await(store.retryAll(DeliveryState.DEAD, T0.plusSeconds(5))));
    assertEquals(3, await(store.retryAll(DeliveryState.PENDING, T0.plusSeconds(6))));
    assertTrue(awaitFailure(store.retryAll(DeliveryState.DELIVERED, T0)) instanceof IllegalArgumentException);
    assertTrue(await(store.list(DeliveryState.DEAD, null, 10)).isEmpty());
  }

  @Test
  void retryingAnInFlightDeliveryMarksItUncertain() {
    await(store.accept(webhook("d-01", "main", T0, "h"), WINDOW, T0.plus(LEASE)));

    assertTrue(await(store.retry("d-01", T0.plusSeconds(1))));

    DeliveryRecord record = find("d-01");
    assertNull(record.leaseUntil());
    assertTrue(record.delivery().uncertain(), "its driver may be creating the lead right now");
  }

  @Test
  void listPagesNewestFirstOptionallyByState() {
    for (int i = 1; i <= 5; i++) {
      acceptFree("d-0" + i, "main", T0.plusSeconds(i));
    }
    await(store.markDead("d-02", "refused", attempt(T0.plusSeconds(9), "rejected", null)));
    await(store.markDead("d-04", "refused", attempt(T0.plusSeconds(9), "rejected", null)));

    List<DeliveryRecord> page1 = await(store.list(null, null, 2));
    List<DeliveryRecord> page2 = await(store.list(null, page1.get(1).delivery().id(), 2));
    List<DeliveryRecord> page3 = await(store.list(null, page2.get(1).delivery().id(), 2));
    List<DeliveryRecord> dead = await(store.list(DeliveryState.DEAD, null, 10));
    List<DeliveryRecord> pendingBefore = await(store.list(DeliveryState.PENDING, "d-03", 10));

    assertEquals(List.of("d-05", "d-04"), ids(page1));
    assertEquals(List.of("d-03", "d-02"), ids(page2));
    assertEquals(List.of("d-01"), ids(page3));
    assertEquals(List.of("d-04", "d-02"), ids(dead));
    assertEquals(List.of("d-01"), ids(pendingBefore));
    assertEquals(DeliveryState.DEAD, page1.get(1).state());
    assertTrue(page1.get(1).history().isEmpty(), "listings leave the history out");
  }

  static NewDelivery subscriber(String id, String integration, Instant at, String json) {
    return new NewDelivery(new Delivery(id, integration, at, "203.0.113.7", payload(json)), "hash-" + id);
  }

  @Test
  void searchFindsASubscriberByPhoneEmailNameOrDeliveryId() {
    await(store.accept(subscriber("d-01", "main", T0.plusSeconds(1),
        "{\"name\":\"Иван Петров\",\"phone\":\"+7 (999) 123-45-67\",\"email\":\"Ivan@Mail.ru\"}"), WINDOW, null));
    await(store.accept(subscriber("d-02", "main", T0.plusSeconds(2),
        "{\"name\":\"Мария\",\"phone\":\"89991234567\"}"), WINDOW, null));
    await(store.accept(subscriber("d-03", "other", T0.plusSeconds(3),
        "{\"name\":\"Ольга\",\"Телефон\":\"8 (912) 000-11-22\",\"comment\":\"9991234567\"}"), WINDOW, null));

    assertEquals(List.of("d-02", "d-01"), ids(search("+79991234567")), "both ways of writing one number");
    assertEquals(List.of("d-02", "d-01"), ids(search("8 999 123 45 67")));
    assertEquals(List.of("d-03"), ids(search("912000")), "a custom phone field, not a comment");
    assertEquals(List.of("d-01"), ids(search("ivan@mail")), "e-mail in any case");
    assertEquals(List.of("d-01"), ids(search("иван")), "Cyrillic name in any case");
    assertEquals(List.of("d-02"), ids(search("d-02")), "the delivery id");
    assertEquals(List.of(), ids(search("%")), "no wildcard");
    assertEquals(2L, await(store.count(filter("9991234567"))));
  }

  @Test
  void searchFiltersByStateIntegrationAndArrivalAndPages() {
    for (int i = 1; i <= 6; i++) {
      acceptFree("d-0" + i, i % 2 == 0 ? "main" : "other", T0.plusSeconds(i));
    }
    await(store.markDead("d-02", "refused", attempt(T0.plusSeconds(9), "rejected", null)));
    await(store.markDead("d-03", "refused", attempt(T0.plusSeconds(9), "rejected", null)));
    await(store.markDead("d-06", "refused", attempt(T0.plusSeconds(9), "rejected", null)));

    DeliveryFilter deadMain = new DeliveryFilter(DeliveryState.DEAD, "main", null, null, null, null);
    assertEquals(List.of("d-06", "d-02"), ids(await(store.search(deadMain, 10))));
    assertEquals(2L, await(store.count(deadMain)));
    DeliveryFilter window = new DeliveryFilter(null, null, T0.plusSeconds(2), T0.plusSeconds(5), null, null);
    assertEquals(List.of("d-04", "d-03", "d-02"), ids(await(store.search(window, 10))), "from inclusive, to not");
    List<DeliveryRecord> page1 = await(store.search(DeliveryFilter.ALL, 4));
    assertEquals(List.of("d-06", "d-05", "d-04", "d-03"), ids(page1));
    assertEquals(List.of("d-02", "d-01"), ids(await(store.search(DeliveryFilter.ALL.before("d-03"), 4))));
    assertEquals(6L, await(store.count(DeliveryFilter.ALL)));
    assertTrue(page1.get(0).history().isEmpty(), "listings leave the history out");
    assertEquals("Ivan", page1.get(0).delivery().payload().getString("name"), "the payload comes with each row");
  }

  private List<DeliveryRecord> search(String query) {
    return await(store.search(filter(query), 10));
  }

  private static DeliveryFilter filter(String query) {
    return new DeliveryFilter(null, null, null, null, SubscriberText.needle(query), null);
  }

  private static List<String> ids(List<DeliveryRecord> records) {
    return records.stream().map(r -> r.delivery().id()).toList();
  }

  @Test
  void backlogCountsPendingAndDeadPerIntegration() {
    acceptFree("a-1", "alpha", T0.plusSeconds(5));
    acceptFree("a-2", "alpha", T0.plusSeconds(3));
    acceptFree("a-3", "alpha", T0);
    acceptFree("b-1", "beta", T0);
    acceptFree("c-1", "gamma", T0);
    await(store.markDead("a-3", "refused", attempt(T0.plusSeconds(9), "rejected", null)));
    await(store.markDelivered("b-1", 1L, attempt(T0.plusSeconds(9), "created", null)));
    await(store.markDead("c-1", "refused", attempt(T0.plusSeconds(9), "rejected", null)));

    assertEquals(List.of(
            new Backlog("alpha", 2, T0.plusSeconds(3), 1),
            new Backlog("gamma", 0, null, 1)),
        await(store.backlog()));
  }

  @Test
  void purgeDeletesOldDeliveredDeliveriesWithTheirHistory() {
    acceptFree("d-01", "main", T0);
    acceptFree("d-02", "main", T0);
    acceptFree("d-03", "main", T0);
    failedOnce("d-01", T0.plusSeconds(1), T0.plusSeconds(10));
    await(store.markDelivered("d-01", 1L, attempt(T0.plusSeconds(10), "created", null)));
    await(store.markDelivered("d-02", 2L, attempt(T0.plusSeconds(100), "created", null)));
    await(store.markDead("d-03", "refused", attempt(T0.plusSeconds(1), "rejected", null)));

    assertEquals(1, await(store.purgeDelivered(T0.plusSeconds(50))));

    assertTrue(await(store.find("d-01")).isEmpty());
    assertEquals(0, historyRows("d-01"), "the history went with it");
    assertEquals(DeliveryState.DELIVERED, find("d-02").state(), "delivered after the cut-off: kept");
    assertEquals(DeliveryState.DEAD, find("d-03").state(), "DEAD ones are never purged");
  }

  @Test
  void releaseAllLeasesMakesLeasedDeliveriesDueNowAndUncertain() {
    await(store.accept(webhook("d-01", "main", T0, "h1"), WINDOW, T0.plus(LEASE)));
    acceptFree("d-02", "main", T0);
    failedOnce("d-02", T0.plusSeconds(1), T0.plusSeconds(600));
    // Leased and not yet due: queued in memory behind a paused portal when the relay stopped.
    await(store.accept(webhook("d-04", "main", T0, "h4"), WINDOW, T0.plus(LEASE)));
    failedOnce("d-04", T0.plusSeconds(3), T0.plusSeconds(900));
    setLeaseUntil("d-04", T0.plusSeconds(2000));
    Instant restart = T0.plusSeconds(20);

    assertEquals(2, await(store.releaseAllLeases(restart)));

    DeliveryRecord inFlight = find("d-01");
    assertNull(inFlight.leaseUntil());
    assertTrue(inFlight.delivery().uncertain());
    assertEquals(T0, inFlight.nextAttemptAt(), "already due stays due");
    DeliveryRecord waitingLeased = find("d-04");
    assertEquals(restart, waitingLeased.nextAttemptAt(), "due now");
    assertTrue(waitingLeased.delivery().uncertain());
    DeliveryRecord free = find("d-02");
    assertFalse(free.delivery().uncertain(), "an unleased delivery was not in flight");
    assertEquals(T0.plusSeconds(600), free.nextAttemptAt());
  }

  @Test
  void renewLeasesExtendsOnlyLeasesStillHeld() {
    await(store.accept(webhook("d-01", "main", T0, "h1"), WINDOW, T0.plus(LEASE)));
    await(store.accept(webhook("d-02", "main", T0, "h2"), WINDOW, T0.plus(LEASE)));
    failedOnce("d-02", T0.plusSeconds(1), T0.plusSeconds(60));
    Instant until = T0.plusSeconds(120);

    await(store.renewLeases(List.of("d-01", "d-02", "missing"), until));

    assertEquals(until, find("d-01").leaseUntil());
    assertNull(find("d-02").leaseUntil(), "its outcome was recorded: it must stay free to be claimed");
    await(store.renewLeases(List.of(), until));
  }

  @Test
  void wakeMakesWaitingDeliveriesOfThoseIntegrationsDueNow() {
    acceptFree("a-1", "alpha", T0);
    acceptFree("a-2", "alpha", T0);
    acceptFree("b-1", "beta", T0);
    await(store.accept(webhook("a-3", "alpha", T0, "leased"), WINDOW, T0.plus(LEASE)));
    for (String id : List.of("a-1", "b-1")) {
      await(store.reschedule(id, T0.plusSeconds(600), false, false, false, attempt(T0.plusSeconds(1), "held", null)));
    }
    Instant now = T0.plusSeconds(10);

    assertEquals(1, await(store.wake(List.of("alpha"), now)), "a-2 was due already, a-3 is in flight");

    assertEquals(now, find("a-1").nextAttemptAt());
    assertEquals(T0.plusSeconds(600), find("b-1").nextAttemptAt());
    assertEquals(List.of("a-2", "a-1"), await(store.claimDue(now, LEASE, 10)).stream().map(Delivery::id).toList());
  }

  @Test
  void futuresCompleteOnTheCallersContext(VertxTestContext ctx) {
    Context context = vertx.getOrCreateContext();
    Checkpoint accepted = ctx.checkpoint();
    Checkpoint listed = ctx.checkpoint();
    context.runOnContext(v -> {
      // A read issued after the accept's answer sees it (a shared store does not order unanswered calls).
      store.accept(webhook("d-01", "main", T0, "h"), WINDOW, null).onComplete(ctx.succeeding(a -> ctx.verify(() -> {
        assertSame(context, Vertx.currentContext());
        accepted.flag();
        store.list(null, null, 10).onComplete(ctx.succeeding(records -> ctx.verify(() -> {
          assertSame(context, Vertx.currentContext());
          assertEquals(1, records.size());
          listed.flag();
        })));
      })));
    });
  }

  @Test
  void aBadArgumentFailsTheFutureInsteadOfThrowing() {
    Delivery noPayload = new Delivery("d-01", "main", T0, null, null);

    Future<Accepted> accepted = store.accept(new NewDelivery(noPayload, "h"), WINDOW, null);
    Future<Void> noAttempt = store.markDelivered("d-01", 1L, null);

    assertTrue(awaitFailure(accepted) instanceof NullPointerException);
    assertTrue(awaitFailure(noAttempt) instanceof NullPointerException);
  }

  @Test
  void attemptsCountsEveryAttemptWhileBackoffCountsOnlyTheCountedOnes() {
    acceptFree("d-01", "main", T0);
    // A refusal before execution (503 QUERY_LIMIT_EXCEEDED): not counted for backoff, but it was an attempt.
    await(store.reschedule("d-01", T0.plusSeconds(1), false, false, false, attempt(T0, "refused", "limit")));
    failedOnce("d-01", T0.plusSeconds(1), T0.plusSeconds(2));
    DeliveryRecord record = find("d-01");
    assertEquals(2, record.attemptsMade());
    assertEquals(1, record.delivery().attempts(), "backoff still counts only the counted failure");
    assertEquals(2, record.toJson().getInteger("attempts"));
    assertEquals(1, record.toJson().getInteger("countedAttempts"));
    assertEquals(2, await(store.list(null, null, 10)).get(0).attemptsMade());
  }

  @Test
  void concurrentAcceptsShareCommitsAndAFailingOneFailsAlone(VertxTestContext ctx) {
    long commitsBefore = commits();
    int count = 2_000;
    vertx.getOrCreateContext().runOnContext(v -> {
      List<Future<Accepted>> accepts = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        accepts.add(store.accept(webhook(String.format("d-%05d", i), "main", T0, "h" + i), WINDOW, null));
      }
      // Same id as the first one, different body: the primary key refuses it, and only it.
      Future<Accepted> clash = store.accept(webhook("d-00000", "main", T0, "other"), WINDOW, null);
      Future.join(accepts).onComplete(ctx.succeeding(all -> clash.onComplete(ctx.failing(error -> ctx.verify(() -> {
        assertTrue(error.getMessage().contains(duplicateIdRefusal()), error.getMessage());
        Set<String> ids = new HashSet<>();
        accepts.forEach(accepted -> ids.add(accepted.result().id()));
        assertEquals(count, ids.size());
        assertTrue(accepts.stream().noneMatch(f -> f.result().repeat()));
        long commits = commits() - commitsBefore;
        assertTrue(commits <= count / 20, "expected group commits, got " + commits + " for " + count + " accepts");
        ctx.completeNow();
      })))));
    });
  }

  @Test
  void twoConcurrentClaimersNeverGetTheSameDelivery() {
    int count = 200;
    for (int i = 0; i < count; i++) {
      acceptFree(String.format("d-%03d", i), "main", T0);
    }
    DeliveryStore other = otherNode();
    Instant now = T0.plusSeconds(1);
    List<Future<List<Delivery>>> claims = new ArrayList<>();
    for (int round = 0; round < 10; round++) {
      claims.add(store.claimDue(now, LEASE, 15));
      claims.add(other.claimDue(now, LEASE, 15));
    }
    await(Future.join(claims));

    List<String> claimed = new ArrayList<>();
    claims.forEach(claim -> claim.result().forEach(d -> claimed.add(d.id())));
    Set<String> distinct = new HashSet<>(claimed);
    assertEquals(claimed.size(), distinct.size(), "a delivery was claimed twice");
    assertEquals(count, claimed.size(), "twenty claims of 15 take all 200");
    closeOther(other);
  }

  @Test
  void repeatsOfOneBodyOnTwoNodesAtOnceGiveOneDelivery() {
    DeliveryStore other = otherNode();
    List<Future<Accepted>> accepts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      DeliveryStore node = i % 2 == 0 ? store : other;
      accepts.add(node.accept(webhook("d-" + i, "main", T0.plusMillis(i), "same body"), WINDOW, null));
    }
    await(Future.join(accepts));

    List<Accepted> answers = accepts.stream().map(Future::result).toList();
    List<Accepted> stored = answers.stream().filter(a -> !a.repeat()).toList();
    assertEquals(1, stored.size(), "exactly one copy is stored: " + answers);
    assertTrue(answers.stream().allMatch(a -> a.id().equals(stored.get(0).id())), "every copy names it: " + answers);
    assertEquals(1, await(store.list(null, null, 100)).size());
    closeOther(other);
  }

  @Test
  void payloadsAreKeptByteForByte() {
    String body = "{\"имя\":\"Иван Петров\",\"emoji\":\"🙂👍🏽\",\"price\":1.50,\"sum\":9000.00,"
        + "\"zip\":\"007\",\"e\":1.0E+2,\"keys\":{\"b\":1,\"a\":2}}";
    await(store.accept(new NewDelivery(new Delivery("d-01", "main", T0, null, payload(body)), "h"), WINDOW, null));
    reopen();

    assertEquals(body, find("d-01").delivery().payload().encode());
    assertEquals(body, await(store.claimDue(T0, LEASE, 1)).get(0).payload().encode());
  }

  @Test
  void leaseTakeoverWithAStaleEpochIsRefused() {
    String portal = "https://shop.example.bitrix24.ru";
    for (String id : List.of("d-01", "d-02", "d-03", "d-04")) {
      acceptFree(id, "main", T0);
    }
    Fence mine = ownPortal(portal);
    await(store.markDelivered("d-01", 101L, attempt(T0, "created", null), mine));
    assertEquals(DeliveryState.DELIVERED, find("d-01").state(), "the owner's writes apply while its term lasts");

    if (!takeOver(portal)) {
      // A single-node store: nobody else can own the portal, so its fence always holds.
      await(store.markDelivered("d-02", 102L, attempt(T0, "created", null), mine));
      assertEquals(DeliveryState.DELIVERED, find("d-02").state());
      return;
    }
    Instant later = T0.plusSeconds(5);
    assertTrue(awaitFailure(store.markDelivered("d-02", 102L, attempt(later, "created", null), mine))
        instanceof Fenced);
    assertTrue(awaitFailure(store.reschedule("d-03", later, true, true, true, attempt(later, "failed", "x"), mine))
        instanceof Fenced);
    assertTrue(awaitFailure(store.markDead("d-04", "gone", attempt(later, "dead", "x"), mine)) instanceof Fenced);
    for (String id : List.of("d-02", "d-03", "d-04")) {
      DeliveryRecord record = find(id);
      assertEquals(DeliveryState.PENDING, record.state(), id + " changed under a stale epoch");
      assertEquals(0, record.delivery().attempts(), id);
      assertEquals(0, historyRows(id), id + " got history under a stale epoch");
    }

    Fence theirs = new Fence(portal, mine.epoch() + 1);
    await(store.markDelivered("d-02", 102L, attempt(later, "found", null), theirs));
    assertEquals(DeliveryState.DELIVERED, find("d-02").state(), "the new owner's writes apply");
  }

  @Test
  void aNewOwnerReleasesWhatEarlierTermsHeldOfItsPortalAsUncertain() {
    String portal = "https://shop.example.bitrix24.ru";
    DeliveryStore other = otherNode();
    await(store.accept(webhook("mine", "main", T0, "h-mine"), WINDOW, T0.plus(LEASE)));
    await(store.accept(webhook("mine-before", "main", T0, "h-mine-before"), WINDOW, T0.plus(LEASE)));
    await(other.accept(webhook("theirs", "main", T0, "h-theirs"), WINDOW, T0.plus(LEASE)));
    await(other.accept(webhook("elsewhere", "other", T0, "h-elsewhere"), WINDOW, T0.plus(LEASE)));
    Fence fence = ownPortal(portal);

    int released = await(store.releaseForNewOwner(List.of("main"), List.of("mine"), fence, T0.plusSeconds(1)));

    if (other == store) {
      assertEquals(0, released, "a single-node store has no other node");
      closeOther(other);
      return;
    }
    assertEquals(2, released);
    for (String id : List.of("theirs", "mine-before")) {
      DeliveryRecord record = find(id);
      assertNull(record.leaseUntil(), id + " is due for the new owner's scheduler at once");
      assertTrue(record.delivery().uncertain(), id + " is looked up before it is added again");
    }
    assertEquals(T0.plus(LEASE), find("mine").leaseUntil(), "what the new owner works on is left as it is");
    assertEquals(T0.plus(LEASE), find("elsewhere").leaseUntil(), "another portal's deliveries are not touched");
    assertEquals(List.of("mine-before", "theirs"), await(store.claimDue(T0.plusSeconds(1), LEASE, 10)).stream()
        .map(Delivery::id).sorted().toList());

    await(other.accept(webhook("later", "main", T0, "h-later"), WINDOW, T0.plus(LEASE)));
    takeOver(portal);
    assertEquals(0, await(store.releaseForNewOwner(List.of("main"), List.of(), fence, T0.plusSeconds(2))),
        "a stale owner releases nothing");
    assertEquals(T0.plus(LEASE), find("later").leaseUntil());
    closeOther(other);
  }

  @Test
  void anOwnerKeepsTheLeasesOfCommandsHandedToItByOtherNodes() {
    String portal = "https://shop.example.bitrix24.ru";
    DeliveryStore other = otherNode();
    await(other.accept(webhook("handed", "main", T0, "h-handed"), WINDOW, T0.plus(LEASE)));
    await(store.accept(webhook("done", "main", T0, "h-done"), WINDOW, T0.plus(LEASE)));
    await(store.markDelivered("done", 7L, attempt(T0, "created", null)));
    Fence fence = ownPortal(portal);
    Instant until = T0.plusSeconds(600);

    await(store.renewLeases(List.of("handed", "done"), until, fence));

    assertEquals(until, find("handed").leaseUntil(), "the owner keeps what another node accepted and handed over");
    assertNull(find("done").leaseUntil(), "a recorded outcome stays free");
    if (takeOver(portal)) {
      await(store.renewLeases(List.of("handed"), until.plusSeconds(600), fence));
      assertEquals(until, find("handed").leaseUntil(), "a stale owner renews nothing");
    }
    closeOther(other);
  }

  private void closeOther(DeliveryStore other) {
    if (other != store) {
      await(other.close());
    }
  }
}
