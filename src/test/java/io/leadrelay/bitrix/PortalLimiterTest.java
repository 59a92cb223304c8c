package io.leadrelay.bitrix;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortalLimiterTest {

  private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");

  /** A reference leaky bucket like Bitrix24's, to check the limiter against. */
  private static final class Bucket {
    double level;
    Instant at = T0;

    boolean request(Instant now, int burst, double rate) {
      level = Math.max(0, level - Duration.between(at, now).toMillis() * rate / 1000.0);
      at = now;
      if (level + 1 > burst) {
        return false;
      }
      level += 1;
      return true;
    }
  }

  @Test
  void aBurstGoesAtOnceThenTheDrainRatePaces() {
    PortalLimiter limiter = new PortalLimiter(50, 2);
    for (int i = 0; i < 50; i++) {
      assertEquals(Duration.ZERO, limiter.tryAcquire(T0), "request " + i + " of the burst");
    }
    assertEquals(Duration.ofMillis(500), limiter.tryAcquire(T0));
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0.plusMillis(500)));
    assertEquals(Duration.ofMillis(500), limiter.tryAcquire(T0.plusMillis(500)));
  }

  @Test
  void drivenAsFastAsItAllowsItIsNeverRefusedAndMatchesTheTheoreticalMinimum() {
    for (PortalLimiter.Plan plan : PortalLimiter.Plan.values()) {
      PortalLimiter limiter = new PortalLimiter(plan.burst, plan.rate);
      Bucket portal = new Bucket();
      Instant now = T0;
      int requests = 1000;
      for (int i = 0; i < requests; i++) {
        Duration wait;
        while (!(wait = limiter.tryAcquire(now)).isZero()) {
          now = now.plus(wait);
        }
        assertTrue(portal.request(now, plan.burst, plan.rate), plan + ": request " + i + " refused");
      }
      double minimumSeconds = (requests - plan.burst) / plan.rate;
      double tookSeconds = Duration.between(T0, now).toMillis() / 1000.0;
      assertTrue(tookSeconds <= minimumSeconds * 1.01 + 0.01, plan + ": took " + tookSeconds + " s, minimum "
          + minimumSeconds);
    }
  }

  @Test
  void anUnpredictedRefusalMakesItWaitForTheBucketToDrain() {
    PortalLimiter limiter = new PortalLimiter(50, 2);
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0));
    // Another application emptied the budget: Bitrix24 refused although the model thought it had room.
    limiter.refused(T0);
    assertEquals(50.0, limiter.level(T0), 0.001);
    assertEquals(Duration.ofMillis(500), limiter.tryAcquire(T0));
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0.plusSeconds(1)));
  }

  @Test
  void anIdleBucketEmpties() {
    PortalLimiter limiter = new PortalLimiter(5, 1);
    for (int i = 0; i < 5; i++) {
      limiter.tryAcquire(T0);
    }
    assertEquals(0.0, limiter.level(T0.plusSeconds(60)), 0.001);
  }

  @Test
  void nonsenseLimitsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new PortalLimiter(0, 2));
    assertThrows(IllegalArgumentException.class, () -> new PortalLimiter(50, 0));
  }

  @Test
  void aBucketOfOneStillLetsALookUpAndItsAddGo() {
    PortalLimiter limiter = new PortalLimiter(1, 2);
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0), "one request fills the bucket");
    assertEquals(Duration.ofMillis(500), limiter.tryAcquire(T0, 2), "two wait for the bucket to empty, not forever");
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0.plusMillis(500), 2));
    assertEquals(Duration.ofMillis(1000), limiter.tryAcquire(T0.plusMillis(500)),
        "the excess is drained before the next request");
  }

  @Test
  void headroomKeepsTheTopOfTheBucketFreeForJitter() {
    PortalLimiter limiter = new PortalLimiter(50, 2, 0.5);
    for (int i = 0; i < 49; i++) {
      assertEquals(Duration.ZERO, limiter.tryAcquire(T0));
    }
    assertEquals(Duration.ofMillis(250), limiter.tryAcquire(T0), "the 50th waits until the bucket has 49.5");
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0.plusMillis(250)));
    assertThrows(IllegalArgumentException.class, () -> new PortalLimiter(1, 2, 1));
  }

  @Test
  void askingOftenDoesNotSlowTheDrain() {
    // 50 requests, then asked every 0.7 ms for a second: the bucket drains 2 requests, however often it is asked.
    PortalLimiter limiter = new PortalLimiter(50, 2);
    for (int i = 0; i < 50; i++) {
      limiter.tryAcquire(T0);
    }
    for (long micros = 0; micros <= 1_000_000; micros += 700) {
      limiter.level(T0.plusNanos(micros * 1000));
    }
    assertEquals(48.0, limiter.level(T0.plusSeconds(1)), 0.001);
  }

  @Test
  void aSlowFirstRequestDelaysTheModelsDrainAsItDidThePortals() {
    // The request that found the bucket empty took 600 ms to be answered: it may have reached the portal that late,
    // and the portal's bucket began to drain only then, up to 1.2 requests behind the model's.
    PortalLimiter limiter = new PortalLimiter(50, 2);
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0));
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0.plusMillis(100)));
    limiter.answered(T0, T0.plusMillis(600));
    assertEquals(2.0, limiter.level(T0.plusMillis(600)), 0.001, "drained 1.2 requests, added back");
    limiter.answered(T0, T0.plusMillis(700));
    limiter.answered(T0.plusMillis(100), T0.plusMillis(700));
    assertEquals(1.6, limiter.level(T0.plusMillis(800)), 0.001, "only once, for the request that began it");
  }

  @Test
  void theTimeThePortalSaysItWorkedIsNotTakenForTransit() {
    // A batch of 50 adds that the portal says ran 2.9 s of a 3 s round trip reached it within 0.1 s: 0.2 requests
    // of drain are added back, not 6 (which would hold the next requests for 3 s).
    PortalLimiter limiter = new PortalLimiter(50, 2);
    assertEquals(Duration.ZERO, limiter.tryAcquire(T0));
    limiter.answered(T0, T0.plusMillis(3000), Duration.ofMillis(2900));
    assertEquals(0.2, limiter.level(T0.plusMillis(3000)), 0.001, "1 - 6 drained, floored at 0, + 0.2");
  }
}
