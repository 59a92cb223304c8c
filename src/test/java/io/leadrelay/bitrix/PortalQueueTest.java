package io.leadrelay.bitrix;

import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortalQueueTest {

  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC);

  /** A sender whose requests stay open until the test answers them; each request is recorded as its lead ids. */
  private final Map<String, Promise<Long>> open = new LinkedHashMap<>();
  private final List<List<String>> requests = new ArrayList<>();
  /** Tasks the queue asked to run later, with their delays. */
  private final List<Runnable> timers = new ArrayList<>();
  private final List<Long> delays = new ArrayList<>();

  private List<Future<Long>> send(List<LeadCommand> leads) {
    requests.add(leads.stream().map(LeadCommand::deliveryId).toList());
    List<Future<Long>> outcomes = new ArrayList<>();
    for (LeadCommand lead : leads) {
      Promise<Long> answer = Promise.promise();
      open.put(lead.deliveryId(), answer);
      outcomes.add(answer.future());
    }
    return outcomes;
  }

  private PortalQueue<Long> queue(int maxInFlight, int maxBatch, PortalQueue.Gate gate,
                                  PortalQueue.Sender<Long> sender) {
    return new PortalQueue<>(maxInFlight, maxBatch, gate, sender, (delay, task) -> {
      delays.add(delay);
      timers.add(task);
    }, CLOCK);
  }

  private static LeadCommand lead(String deliveryId) {
    return new LeadCommand(deliveryId, "main", Instant.now(), new JsonObject(), new JsonObject());
  }

  private static LeadCommand uncertain(String deliveryId) {
    return new LeadCommand(deliveryId, "main", Instant.now(), new JsonObject(), new JsonObject(), 1, true, null);
  }

  @Test
  void sendsInArrivalOrderWithAtMostTheLimitInFlight() {
    PortalQueue<Long> queue = queue(2, 1, PortalQueue.Gate.ALWAYS_OPEN, this::send);

    Future<Long> first = queue.submit(lead("d-1"));
    queue.submit(lead("d-2"));
    queue.submit(lead("d-3"));
    queue.submit(lead("d-4"));

    assertEquals(List.of(List.of("d-1"), List.of("d-2")), requests);
    assertEquals(2, queue.inFlight());
    assertEquals(2, queue.queued());

    open.get("d-1").complete(101L);

    assertEquals(101L, first.result());
    assertEquals(List.of(List.of("d-1"), List.of("d-2"), List.of("d-3")), requests);
    assertEquals(2, queue.inFlight());
    assertEquals(1, queue.queued());
  }

  @Test
  void aLeadReceivedEarlierGoesBeforeLeadsReceivedSinceWhicheverWasSubmittedFirst() {
    // After a takeover the dead owner's leads come back from the store while fresh ones keep being handed over.
    PortalQueue<Long> queue = queue(1, 50, PortalQueue.Gate.ALWAYS_OPEN, this::send);
    Instant t = Instant.parse("2026-11-30T12:00:00Z");
    queue.submit(new LeadCommand("fresh-0", "main", t.plusSeconds(10), new JsonObject(), new JsonObject()));
    queue.submit(new LeadCommand("fresh-1", "main", t.plusSeconds(11), new JsonObject(), new JsonObject()));
    queue.submit(new LeadCommand("fresh-2", "main", t.plusSeconds(12), new JsonObject(), new JsonObject()));
    queue.submit(new LeadCommand("old-b", "main", t.plusSeconds(2), new JsonObject(), new JsonObject(), 1, true,
        null));
    queue.submit(new LeadCommand("old-a", "main", t.plusSeconds(1), new JsonObject(), new JsonObject(), 1, true,
        null));
    queue.submit(new LeadCommand("fresh-3", "main", t.plusSeconds(13), new JsonObject(), new JsonObject()));

    open.get("fresh-0").complete(1L);

    assertEquals(List.of(List.of("fresh-0"), List.of("old-a", "old-b")), requests,
        "the lead in flight finishes; then the two received earliest, looked up together");
    open.get("old-a").complete(2L);
    open.get("old-b").complete(3L);
    assertEquals(List.of("fresh-1", "fresh-2", "fresh-3"), requests.get(2), "then the rest in the order received");
  }

  @Test
  void aLoneLeadGoesAtOnceAndWaitingLeadsArePackedIntoBatches() {
    PortalQueue<Long> queue = queue(1, 3, PortalQueue.Gate.ALWAYS_OPEN, this::send);
    queue.submit(lead("d-1"));
    for (int i = 2; i <= 6; i++) {
      queue.submit(lead("d-" + i));
    }
    assertEquals(List.of(List.of("d-1")), requests, "the first lead did not wait for company");

    open.get("d-1").complete(1L);
    assertEquals(List.of("d-2", "d-3", "d-4"), requests.get(1), "up to the batch size");
    open.get("d-2").complete(2L);
    open.get("d-3").complete(3L);
    assertEquals(2, requests.size(), "the request is in flight until every lead in it has its outcome");
    open.get("d-4").complete(4L);
    assertEquals(List.of("d-5", "d-6"), requests.get(2));
  }

  @Test
  void uncertainLeadsGoInGroupsOfTheirOwnCountingTwoRequests() {
    List<Integer> asked = new ArrayList<>();
    PortalQueue<Long> queue = queue(1, 50, (now, n, leads, waited) -> {
      asked.add(n);
      return BatchPlan.send(leads);
    }, this::send);
    queue.submit(lead("d-0"));
    queue.submit(lead("d-1"));
    queue.submit(uncertain("d-2"));
    queue.submit(uncertain("d-3"));
    queue.submit(lead("d-4"));
    open.get("d-0").complete(0L);
    open.get("d-1").complete(1L);
    open.get("d-2").complete(2L);
    open.get("d-3").complete(3L);
    assertEquals(List.of(List.of("d-0"), List.of("d-1"), List.of("d-2", "d-3"), List.of("d-4")), requests);
    assertEquals(List.of(1, 1, 2, 1), asked, "a look-up and an add for the uncertain group");
  }

  @Test
  void theGateMaySendFewerLeadsThanAreReady() {
    // The operating time left takes two leads per request: five waiting leads go as 2, 2 and 1.
    boolean[] shut = {true};
    PortalQueue<Long> queue = queue(3, 50, (now, n, leads, waited) -> shut[0]
        ? BatchPlan.waitFor(Duration.ofSeconds(1)) : BatchPlan.send(Math.min(2, leads)), this::send);
    for (int i = 1; i <= 5; i++) {
      queue.submit(lead("d-" + i));
    }
    shut[0] = false;
    timers.get(0).run();
    assertEquals(List.of(List.of("d-1", "d-2"), List.of("d-3", "d-4"), List.of("d-5")), requests);
  }

  @Test
  void aClosedGateHoldsTheQueueUntilItsTimerFires() {
    Duration[] wait = {Duration.ofMillis(500)};
    PortalQueue<Long> queue = queue(2, 50, (now, n, leads, waited) -> wait[0].isZero()
        ? BatchPlan.send(leads) : BatchPlan.waitFor(wait[0]), this::send);
    queue.submit(lead("d-1"));
    queue.submit(lead("d-2"));
    assertTrue(requests.isEmpty());
    assertEquals(List.of(500L), delays, "one timer for the whole queue");

    wait[0] = Duration.ZERO;
    timers.get(0).run();
    assertEquals(List.of(List.of("d-1", "d-2")), requests);
  }

  @Test
  void aFailureReachesOnlyItsLeadAndTheQueueGoesOn() {
    PortalQueue<Long> queue = queue(1, 1, PortalQueue.Gate.ALWAYS_OPEN, this::send);
    Future<Long> failing = queue.submit(lead("d-1"));
    Future<Long> next = queue.submit(lead("d-2"));

    open.get("d-1").fail(new BitrixException(new BitrixError(ErrorClass.REFUSED, 503, "QUERY_LIMIT_EXCEEDED", "")));
    open.get("d-2").complete(7L);

    assertTrue(failing.failed());
    assertEquals(7L, next.result());
    assertEquals(0, queue.inFlight());
    assertEquals(0, queue.queued());
  }

  @Test
  void aSenderThatThrowsFailsItsLeadsAndTheQueueGoesOn() {
    PortalQueue<Long> queue = queue(1, 1, PortalQueue.Gate.ALWAYS_OPEN, leads -> {
      if (leads.get(0).deliveryId().equals("d-1")) {
        throw new IllegalStateException("boom");
      }
      return List.of(Future.succeededFuture(2L));
    });

    Future<Long> first = queue.submit(lead("d-1"));
    Future<Long> second = queue.submit(lead("d-2"));

    assertTrue(first.failed());
    assertEquals(2L, second.result());
  }

  @Test
  void aLongBacklogOfInstantAnswersDoesNotOverflowTheStack() {
    Promise<Long> firstAnswer = Promise.promise();
    PortalQueue<Long> queue = queue(1, 1, PortalQueue.Gate.ALWAYS_OPEN, leads -> List.of(
        leads.get(0).deliveryId().equals("d-0") ? firstAnswer.future() : Future.succeededFuture(1L)));
    List<Future<Long>> results = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      results.add(queue.submit(lead("d-" + i)));
    }
    assertEquals(49_999, queue.queued());

    firstAnswer.complete(1L);

    assertTrue(results.stream().allMatch(Future::succeeded));
    assertEquals(0, queue.inFlight());
    assertEquals(0, queue.queued());
  }

  @Test
  void aLeadThatMustGoAloneNeverSharesARequest() {
    // The gate stays shut until the test opens it, so that all six leads are waiting when requests are formed.
    boolean[] shut = {true};
    PortalQueue.Gate gate = (now, requests, leads, waited) -> shut[0]
        ? BatchPlan.waitFor(Duration.ofSeconds(1)) : BatchPlan.send(leads);
    PortalQueue<Long> queue = new PortalQueue<>(4, 50, gate, this::send, (delay, task) -> timers.add(task), CLOCK,
        command -> command.deliveryId().startsWith("solo"));
    for (String id : List.of("d-1", "d-2", "solo-3", "d-4", "solo-5", "solo-6")) {
      queue.submit(lead(id));
    }
    shut[0] = false;
    timers.remove(0).run();

    assertEquals(List.of(List.of("d-1", "d-2"), List.of("solo-3"), List.of("d-4"), List.of("solo-5")), requests);
    open.get("d-1").complete(1L);
    open.get("d-2").complete(2L);
    assertEquals(List.of("solo-6"), requests.get(4));
  }
}
