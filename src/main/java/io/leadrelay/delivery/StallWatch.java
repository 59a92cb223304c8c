package io.leadrelay.delivery;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Tells whether one portal's queue is stuck: leads have been waiting longer than a threshold and none has been
 * delivered meanwhile. Neither a refusal nor a pause is needed for that (a portal that sends its headers and then
 * stalls, or fails every attempt "ambiguously", never pauses), so progress is judged by what got through.
 * Not thread-safe: owned by one verticle's event loop.
 */
public final class StallWatch {

  private final Duration threshold;
  private Instant lastProgressAt;

  /** @param start when watching began: a backlog found at start-up gets the whole threshold to start moving */
  public StallWatch(Duration threshold, Instant start) {
    this.threshold = threshold;
    this.lastProgressAt = start;
  }

  /** A lead of this portal was delivered (created or found). */
  public void progressed(Instant at) {
    if (at.isAfter(lastProgressAt)) {
      lastProgressAt = at;
    }
  }

  public Instant lastProgressAt() {
    return lastProgressAt;
  }

  /**
   * Since when the queue has been stuck, or empty if it is not: with {@code oldestWaitingSince} the arrival of the
   * oldest lead still waiting (null: nothing waits), stuck means that lead and the last delivery are both older than
   * the threshold. A lead that arrived after an idle spell starts the clock afresh.
   */
  public Optional<Instant> stalledSince(Instant oldestWaitingSince, Instant now) {
    if (oldestWaitingSince == null) {
      return Optional.empty();
    }
    Instant since = oldestWaitingSince.isAfter(lastProgressAt) ? oldestWaitingSince : lastProgressAt;
    return Duration.between(since, now).compareTo(threshold) >= 0 ? Optional.of(since) : Optional.empty();
  }
}
