package io.leadrelay.config;

import java.time.Duration;

/**
 * How deliveries are kept and retried.
 *
 * @param storeSynchronous SQLite's synchronous mode: FULL (a 200 means the webhook is on disk), NORMAL or OFF
 * @param retryBase        first retry delay after a failure that counts; doubles per attempt, with jitter
 * @param retryMax         cap on the retry delay
 * @param maxAge           a delivery failing for longer than this goes DEAD
 * @param repeatWindow     the same body for the same integration within this window is the same delivery
 * @param lease            how long a delivery being worked on is reserved before it counts as lost and is retried
 * @param sweepInterval    how often due and lost deliveries are looked for
 * @param sweepBatch       most deliveries taken per sweep
 * @param retentionDays    DELIVERED deliveries are deleted after this many days
 * @param stallAfter       a portal with leads waiting and none delivered for this long is reported DEGRADED
 */
public record DeliveryConfig(String storeSynchronous, Duration retryBase, Duration retryMax, Duration maxAge,
                             Duration repeatWindow, Duration lease, Duration sweepInterval, int sweepBatch,
                             int retentionDays, Duration stallAfter) {

  /** Long enough for a long hold or operating-time pause (up to 10 minutes of retries), short enough to matter. */
  public static final Duration DEFAULT_STALL_AFTER = Duration.ofMinutes(5);

  /** With the default stall threshold. */
  public DeliveryConfig(String storeSynchronous, Duration retryBase, Duration retryMax, Duration maxAge,
                        Duration repeatWindow, Duration lease, Duration sweepInterval, int sweepBatch,
                        int retentionDays) {
    this(storeSynchronous, retryBase, retryMax, maxAge, repeatWindow, lease, sweepInterval, sweepBatch, retentionDays,
        DEFAULT_STALL_AFTER);
  }

  public static DeliveryConfig defaults() {
    return new DeliveryConfig("FULL", Duration.ofSeconds(2), Duration.ofMinutes(10), Duration.ofHours(72),
        Duration.ofMinutes(10), Duration.ofMinutes(2), Duration.ofSeconds(1), 200, 30);
  }
}
