package io.leadrelay.bitrix;

import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortalQueueTest {

  /** A sender whose requests stay open until the test answers them. */
  private final Map<String, Promise<Long>> open = new LinkedHashMap<>();
  private final List<String> sent = new ArrayList<>();

  private Future<Long> send(LeadCommand command) {
    sent.add(command.deliveryId());
    Promise<Long> answer = Promise.promise();
    open.put(command.deliveryId(), answer);
    return answer.future();
  }

  private static LeadCommand lead(String deliveryId) {
    return new LeadCommand(deliveryId, "main", Instant.now(), new JsonObject(), new JsonObject());
  }

  @Test
  void sendsInArrivalOrderWithAtMostTheLimitInFlight() {
    PortalQueue<Long> queue = new PortalQueue<Long>(2, this::send);

    Future<Long> first = queue.submit(lead("d-1"));
    queue.submit(lead("d-2"));
    queue.submit(lead("d-3"));
    queue.submit(lead("d-4"));

    assertEquals(List.of("d-1", "d-2"), sent);
    assertEquals(2, queue.inFlight());
    assertEquals(2, queue.queued());

    open.get("d-1").complete(101L);

    assertEquals(101L, first.result());
    assertEquals(List.of("d-1", "d-2", "d-3"), sent);
    assertEquals(2, queue.inFlight());
    assertEquals(1, queue.queued());
  }

  @Test
  void aFailureFreesItsSlotAndReachesOnlyItsLead() {
    PortalQueue<Long> queue = new PortalQueue<Long>(1, this::send);
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
  void senderThatThrowsFailsTheLeadAndTheQueueGoesOn() {
    PortalQueue<Long> queue = new PortalQueue<Long>(1, command -> {
      if (command.deliveryId().equals("d-1")) {
        throw new IllegalStateException("boom");
      }
      return Future.succeededFuture(2L);
    });

    Future<Long> first = queue.submit(lead("d-1"));
    Future<Long> second = queue.submit(lead("d-2"));

    assertTrue(first.failed());
    assertEquals(2L, second.result());
  }

  @Test
  void aLongBacklogOfInstantAnswersDoesNotOverflowTheStack() {
    Promise<Long> firstAnswer = Promise.promise();
    PortalQueue<Long> queue = new PortalQueue<Long>(1,
        command -> command.deliveryId().equals("d-0") ? firstAnswer.future() : Future.succeededFuture(1L));
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
}
