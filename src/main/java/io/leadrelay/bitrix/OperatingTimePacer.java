package io.leadrelay.bitrix;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps a method clear of Bitrix24's operating-time block. Every answer's {@code time} block says how many seconds
 * the method has spent for this webhook in the sliding 10-minute window ({@code operating}) and when the oldest
 * minute drops out ({@code operating_reset_at}); past the portal's limit the method answers 429
 * OPERATION_TIME_LIMIT until the window frees. When a method's usage comes within a margin of the limit, this holds
 * it until that reset time, so the block is never reached: a short pause instead of a refusal.
 * Not thread-safe: used on one event loop.
 */
public final class OperatingTimePacer {

  /** With leads in flight and no room known, ask again after this (an answer re-asks sooner). */
  private static final java.time.Duration ANSWER_WAIT = java.time.Duration.ofMillis(200);

  private record Usage(double operatingSeconds, Instant resetAt) {
  }

  private final double limitSeconds;
  private final double holdAboveSeconds;
  /** Batches are sized to fill the window up to here: the limit less half the margin, for costs that vary. */
  private final double fillUpToSeconds;
  private final Map<String, Usage> usage = new HashMap<>();
  /** Operating seconds one lead's add has cost lately; 0 until an answer has shown it. */
  private double secondsPerLead;

  /**
   * @param limitSeconds the portal's operating-time limit per 10 minutes (480 s on Bitrix24 cloud)
   * @param margin       the share of the limit kept free, e.g. 0.1: hold at 90 % of the limit, leaving room for
   *                     the requests already in flight
   */
  public OperatingTimePacer(double limitSeconds, double margin) {
    this.limitSeconds = limitSeconds;
    this.holdAboveSeconds = limitSeconds * (1 - margin);
    this.fillUpToSeconds = limitSeconds * (1 - margin / 2);
  }

  /**
   * Learns what one lead costs from consecutive commands of one batch (each command's answer says the method's
   * usage so far, so the step between two is one lead's cost). A dearer lead is believed at once, a cheaper one
   * gradually: underestimating the cost is what gets commands refused.
   */
  public void observeLeadCost(double seconds) {
    if (!(seconds > 0)) {
      return;
    }
    secondsPerLead = seconds >= secondsPerLead ? seconds : 0.8 * secondsPerLead + 0.2 * seconds;
  }

  /** What one lead's add has cost lately, in operating seconds; 0 while unknown. */
  public double secondsPerLead() {
    return secondsPerLead;
  }

  /**
   * How many more leads the method's operating time can take now, with {@code leadsInFlight} already sent and not
   * answered (their cost not yet in any answer), or when it will have room again. The usage last reported stays
   * the estimate even after its reset time (usage only falls as the window moves, so it can only be too high):
   * after the reset time one lead may go alone when nothing is in flight, to learn the new usage.
   */
  public BatchPlanner.OperatingRoom room(String method, Instant now, int leadsInFlight) {
    Usage known = usage.get(method);
    if (known == null || secondsPerLead <= 0) {
      return BatchPlanner.OperatingRoom.UNLIMITED;
    }
    double left = fillUpToSeconds - known.operatingSeconds() - leadsInFlight * secondsPerLead;
    int leads = (int) Math.floor(left / secondsPerLead + 1e-9);
    if (leads >= 1) {
      return new BatchPlanner.OperatingRoom(leads, java.time.Duration.ZERO);
    }
    if (known.resetAt() != null && known.resetAt().isAfter(now)) {
      return new BatchPlanner.OperatingRoom(0, java.time.Duration.between(now, known.resetAt()));
    }
    // Past the reset time: the oldest charges have left the window, by how much is learnt from one lead's answer.
    return leadsInFlight == 0 ? new BatchPlanner.OperatingRoom(1, java.time.Duration.ZERO)
        : new BatchPlanner.OperatingRoom(0, ANSWER_WAIT);
  }

  /** Records what an answer said about a method (a batch reports each command's method in result_time). */
  public void observe(String method, double operatingSeconds, Instant resetAt) {
    Usage known = usage.get(method);
    // Answers can arrive out of order. A later reset time means a later window (usage may have dropped);
    // within the same window the larger figure is the later one; an earlier window is old news.
    boolean newer = known == null || resetAt == null || known.resetAt() == null
        || resetAt.isAfter(known.resetAt())
        || (resetAt.equals(known.resetAt()) && operatingSeconds > known.operatingSeconds());
    if (newer) {
      usage.put(method, new Usage(operatingSeconds, resetAt));
    }
  }

  /** When the method may be called again: {@code now} if it has room, else the time its window frees up. */
  public Instant clearAt(String method, Instant now) {
    Usage known = usage.get(method);
    if (known == null || known.operatingSeconds() < holdAboveSeconds || known.resetAt() == null
        || !known.resetAt().isAfter(now)) {
      return now;
    }
    return known.resetAt();
  }

  /**
   * When all of {@code methods} may be called again: the latest of their {@link #clearAt} times. A batch of
   * crm.lead.add is charged to each command's method (official docs) and, by third-party measurements, to
   * {@code batch} itself: pacing on both means whichever binds holds the queue.
   */
  public Instant clearAt(Instant now, String... methods) {
    Instant clear = now;
    for (String method : methods) {
      Instant at = clearAt(method, now);
      if (at.isAfter(clear)) {
        clear = at;
      }
    }
    return clear;
  }

  /** The most operating time one method has used in its current 10-minute window, in seconds (admin page). */
  public double usedSeconds(Instant now) {
    return usage.values().stream().filter(u -> u.resetAt() != null && u.resetAt().isAfter(now))
        .mapToDouble(Usage::operatingSeconds).max().orElse(0);
  }

  public double limitSeconds() {
    return limitSeconds;
  }
}
