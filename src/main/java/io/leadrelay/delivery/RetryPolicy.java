package io.leadrelay.delivery;

import io.leadrelay.bitrix.BitrixError;
import io.leadrelay.config.DeliveryConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * Decides what happens to a delivery after a failed attempt, by the failure's class:
 * refused before execution → again when the portal's hold ends, not counted; ambiguous → again after an
 * exponential, jittered backoff, counted, and looked up before the next add; rejected lead → DEAD with Bitrix24's
 * reason; portal failure → the portal is paused and the delivery waits. A delivery whose failures have lasted
 * longer than the maximum age goes DEAD instead of being retried.
 */
public final class RetryPolicy {

  /** What to do next. */
  public sealed interface Decision {
  }

  /** Try again at {@code at}; {@code counts}: the attempt counts against the delivery. */
  public record Retry(Instant at, boolean counts, boolean uncertain) implements Decision {
  }

  public record Dead(String reason) implements Decision {
  }

  public record PausePortal() implements Decision {
  }

  private final DeliveryConfig config;
  private final RandomGenerator random;

  public RetryPolicy(DeliveryConfig config, RandomGenerator random) {
    this.config = config;
    this.random = random;
  }

  /**
   * @param attempts      attempts that counted before this one
   * @param firstFailedAt when the delivery's current run of failures began, or null if this is its first failure
   * @param heldUntil     when the portal accepts requests again after a refusal
   */
  public Decision decide(BitrixError error, int attempts, Instant firstFailedAt, Instant now, Instant heldUntil) {
    return switch (error.errorClass()) {
      case REFUSED -> new Retry(heldUntil.isAfter(now) ? heldUntil : now, false, false);
      case AMBIGUOUS -> {
        Instant failingSince = firstFailedAt == null ? now : firstFailedAt;
        if (Duration.between(failingSince, now).compareTo(config.maxAge()) > 0) {
          yield new Dead("Gave up after failing for more than " + config.maxAge().toHours() + " h ("
              + (attempts + 1) + " attempts); last error: " + error.reason());
        }
        yield new Retry(now.plus(backoff(attempts + 1)), true, true);
      }
      case LEAD_REJECTED -> new Dead(error.reason());
      case PORTAL_FAILURE -> new PausePortal();
    };
  }

  /**
   * The wait before attempt {@code n + 1} after the n-th counted failure: base × 2^(n-1), capped, then "equal
   * jitter" (between half and all of it) so that deliveries failing together do not retry together.
   */
  public Duration backoff(int failures) {
    long base = config.retryBase().toMillis();
    long cap = config.retryMax().toMillis();
    int doublings = Math.min(Math.max(failures - 1, 0), 40);
    long delay = base > cap >> doublings ? cap : Math.min(cap, base << doublings);
    long half = delay / 2;
    return Duration.ofMillis(half + (half > 0 ? random.nextLong(half + 1) : 0));
  }
}
