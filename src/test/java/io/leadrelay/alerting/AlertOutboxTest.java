package io.leadrelay.alerting;

import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.logging.SecretMasker;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlertOutboxTest {

  private static final String TOKEN = "4242:test-bot-token-do-not-use-x";
  private static final Alert ALERT = new Alert("shop", "[LeadRelay] Test", "text");

  /** Retries run when the test says; delays are recorded. */
  private final List<Long> delays = new ArrayList<>();
  private final List<Runnable> due = new ArrayList<>();
  private final List<ErrorEvent> logged = new ArrayList<>();
  private final AlertOutbox outbox = new AlertOutbox((delay, task) -> {
    delays.add(delay);
    due.add(task);
  }, Duration.ofSeconds(1), new SecretMasker(Set.of(TOKEN)), logged::add);

  @Test
  void aFailedSendIsRetriedWithAGrowingWaitAndEachFailureLoggedWithoutTheSecret() {
    ScriptedChannel channel = new ScriptedChannel(3);
    outbox.offer(ALERT, List.of(channel));
    for (int i = 0; i < 3; i++) {
      Runnable retry = due.remove(0);
      retry.run();
    }
    assertEquals(List.of(1000L, 2000L, 4000L), delays);
    assertEquals(4, channel.calls, "three failures, then taken");
    assertEquals(1, channel.taken);
    assertEquals(0, outbox.held());
    assertEquals(3, logged.size());
    ErrorEvent first = logged.get(0);
    assertEquals("alert", first.stage());
    assertEquals("alert_not_sent", first.error());
    assertEquals("retry in 1 s", first.next());
    assertEquals("The alert \"[LeadRelay] Test\" was not sent to fake channel: refused by bot ***", first.reason());
    assertFalse(logged.stream().anyMatch(e -> e.reason().contains(TOKEN)));
  }

  @Test
  void theReceiversOwnWaitIsHonoured() {
    ScriptedChannel channel = new ScriptedChannel(1);
    channel.retryAfter = Duration.ofSeconds(7);
    outbox.offer(ALERT, List.of(channel));
    assertEquals(List.of(7000L), delays);
  }

  @Test
  void aReceiversWaitOfABillionSecondsIsCutToTheLongestBackoff() {
    ScriptedChannel channel = new ScriptedChannel(1);
    channel.retryAfter = Duration.ofSeconds(1_000_000_000L);
    outbox.offer(ALERT, List.of(channel));
    assertEquals(List.of(300_000L), delays, "held for 5 min at most, not for good");
  }

  @Test
  void aChannelThatNeverTakesIsGivenUpAfterTwelveAttempts() {
    ScriptedChannel channel = new ScriptedChannel(Integer.MAX_VALUE);
    outbox.offer(ALERT, List.of(channel));
    while (!due.isEmpty()) {
      due.remove(0).run();
    }
    assertEquals(12, channel.calls);
    assertEquals(300_000L, delays.get(delays.size() - 1), "the wait stops growing at 5 min");
    assertEquals("given up", logged.get(logged.size() - 1).next());
    assertEquals(0, outbox.held());
  }

  @Test
  void theQueueIsBoundedAndWhatDoesNotFitIsSaidNotHeld() {
    PendingChannel stuck = new PendingChannel();
    for (int i = 0; i < AlertOutbox.CAPACITY + 5; i++) {
      outbox.offer(ALERT, List.of(stuck));
    }
    assertEquals(AlertOutbox.CAPACITY, outbox.held());
    assertEquals(4, stuck.calls, "four sends in flight at a time, whatever waits");
    assertEquals(5, logged.size());
    assertTrue(logged.get(0).reason().contains("the alert queue is full (1000 waiting)"), logged.get(0).reason());
    assertEquals("dropped", logged.get(0).next());
  }

  private static final class ScriptedChannel implements AlertChannel {
    private int failures;
    private Duration retryAfter;
    int calls;
    int taken;

    ScriptedChannel(int failures) {
      this.failures = failures;
    }

    @Override
    public Future<Void> send(Alert alert) {
      calls++;
      if (failures-- > 0) {
        return Future.failedFuture(new NotSent("refused by bot " + TOKEN, retryAfter));
      }
      taken++;
      return Future.succeededFuture();
    }

    @Override
    public String describe() {
      return "fake channel";
    }
  }

  /** Never answers: every send stays in flight. */
  private static final class PendingChannel implements AlertChannel {
    int calls;

    @Override
    public Future<Void> send(Alert alert) {
      calls++;
      return Promise.<Void>promise().future();
    }

    @Override
    public String describe() {
      return "stuck channel";
    }
  }
}
