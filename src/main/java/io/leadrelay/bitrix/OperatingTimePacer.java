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

  private record Usage(double operatingSeconds, Instant resetAt) {
  }

  private final double limitSeconds;
  private final double holdAboveSeconds;
  private final Map<String, Usage> usage = new HashMap<>();

  /**
   * @param limitSeconds the portal's operating-time limit per 10 minutes (480 s on Bitrix24 cloud)
   * @param margin       the share of the limit kept free, e.g. 0.1: hold at 90 % of the limit, leaving room for
   *                     the requests already in flight
   */
  public OperatingTimePacer(double limitSeconds, double margin) {
    this.limitSeconds = limitSeconds;
    this.holdAboveSeconds = limitSeconds * (1 - margin);
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

  public double limitSeconds() {
    return limitSeconds;
  }
}
