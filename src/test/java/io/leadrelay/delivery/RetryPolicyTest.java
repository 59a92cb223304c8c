package io.leadrelay.delivery;

import io.leadrelay.bitrix.BitrixError;
import io.leadrelay.bitrix.ErrorClass;
import io.leadrelay.config.DeliveryConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryPolicyTest {

  private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
  private final DeliveryConfig config = DeliveryConfig.defaults();
  private final RetryPolicy policy = new RetryPolicy(config, new Random(42));

  private static BitrixError error(ErrorClass errorClass, String code) {
    return new BitrixError(errorClass, 500, code, "description");
  }

  @Test
  void aRefusalWaitsForThePortalAndDoesNotCount() {
    Instant heldUntil = NOW.plusSeconds(4);
    RetryPolicy.Retry retry = assertInstanceOf(RetryPolicy.Retry.class,
        policy.decide(error(ErrorClass.REFUSED, "QUERY_LIMIT_EXCEEDED"), 7, NOW.minus(Duration.ofDays(30)), NOW,
            heldUntil));
    assertEquals(heldUntil, retry.at());
    assertFalse(retry.counts(), "a refusal before execution does not count against the delivery");
    assertFalse(retry.uncertain(), "nothing was executed, so no lead can exist");
  }

  @Test
  void anAmbiguousFailureCountsBacksOffAndMakesTheNextAttemptLookUpFirst() {
    RetryPolicy.Retry retry = assertInstanceOf(RetryPolicy.Retry.class,
        policy.decide(error(ErrorClass.AMBIGUOUS, "INTERNAL_SERVER_ERROR"), 0, null, NOW, NOW));
    assertTrue(retry.counts());
    assertTrue(retry.uncertain());
    Duration wait = Duration.between(NOW, retry.at());
    assertTrue(wait.compareTo(Duration.ofSeconds(1)) >= 0 && wait.compareTo(Duration.ofSeconds(2)) <= 0, wait.toString());
  }

  @Test
  void backoffDoublesWithJitterUpToTheCap() {
    for (int failures = 1; failures <= 40; failures++) {
      long full = Math.min(config.retryMax().toMillis(), config.retryBase().toMillis() << Math.min(failures - 1, 30));
      long wait = policy.backoff(failures).toMillis();
      assertTrue(wait >= full / 2 && wait <= full, "failure " + failures + ": " + wait + " not in [" + full / 2
          + ", " + full + "]");
    }
    assertTrue(policy.backoff(100).compareTo(config.retryMax()) <= 0);
  }

  @Test
  void aRejectedLeadIsDeadWithBitrixReason() {
    BitrixError rejected = new BitrixError(ErrorClass.LEAD_REJECTED, 400, "", "Не заполнено поле NAME");
    RetryPolicy.Dead dead = assertInstanceOf(RetryPolicy.Dead.class, policy.decide(rejected, 0, null, NOW, NOW));
    assertTrue(dead.reason().contains("Не заполнено поле NAME"), dead.reason());
  }

  @Test
  void aPortalFailurePausesThePortalInsteadOfKillingTheDelivery() {
    assertInstanceOf(RetryPolicy.PausePortal.class,
        policy.decide(error(ErrorClass.PORTAL_FAILURE, "NO_AUTH_FOUND"), 3, NOW.minus(Duration.ofDays(9)), NOW, NOW));
  }

  @Test
  void aDeliveryFailingLongerThanMaxAgeIsDead() {
    Instant longAgo = NOW.minus(config.maxAge()).minusSeconds(1);
    RetryPolicy.Dead dead = assertInstanceOf(RetryPolicy.Dead.class,
        policy.decide(error(ErrorClass.AMBIGUOUS, null), 12, longAgo, NOW, NOW));
    assertTrue(dead.reason().startsWith("Gave up after failing for more than 72 h (13 attempts)"), dead.reason());
    assertInstanceOf(RetryPolicy.Retry.class,
        policy.decide(error(ErrorClass.AMBIGUOUS, null), 12, NOW.minus(config.maxAge()), NOW, NOW));
  }
}
