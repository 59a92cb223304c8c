package io.leadrelay.bitrix;

import java.time.Duration;

/**
 * Decides what the next request to a portal carries and when it goes, from what the sending loop knows: the leads
 * ready, how long the first has waited, whether more are arriving and how fast, how full the request bucket is, and
 * how many leads the operating time left can take.
 * <ul>
 *   <li>A partial batch costs a request that could have carried {@code maxBatch} leads. While the bucket has
 *   plenty of room and the leads arriving would not need it, that request is free: send now. Once the room is
 *   needed, every request is worth a full batch: while leads keep arriving, a partial batch waits for more, up to
 *   one permit's time (the bucket could not have taken a second request sooner anyway).</li>
 *   <li>Once the bucket is over half full, a partial batch waits to fill up to one permit's time even when nothing
 *   is arriving at the moment (a broadcast whose arrival stalled); leads that have waited that long go.</li>
 *   <li>A lone lead at idle, or the tail of a broadcast (nothing arriving), goes at once: waiting would gain
 *   nothing. The leads right behind it wait to fill a batch unless they come slowly: the second lead of a
 *   broadcast would otherwise spend a whole request (half a second of its drain) on itself.</li>
 *   <li>A batch never carries more leads than the operating time left can take, so no command in it is refused;
 *   when not even one fits, the request waits until the window frees.</li>
 * </ul>
 * Whether a permit is free right now is the {@link PortalLimiter}'s question, asked after this one. Pure: time and
 * state are passed in.
 */
final class BatchPlanner {

  private final int maxBatch;
  private final int burst;
  private final double permitsPerSecond;
  private final Duration permitInterval;

  BatchPlanner(int maxBatch, int burst, double permitsPerSecond) {
    this.maxBatch = maxBatch;
    this.burst = burst;
    this.permitsPerSecond = permitsPerSecond;
    this.permitInterval = Duration.ofMillis((long) Math.ceil(1000 / permitsPerSecond));
  }

  /**
   * @param ready            leads that may share the next request (at most a batch)
   * @param waited           how long the first of them has waited
   * @param arriving         whether more leads keep arriving, and how fast
   * @param bucketLevel      requests in the portal's bucket (the {@link PortalLimiter}'s model)
   * @param operatingRoom    how many leads the operating time left can take, and until when it is used up
   */
  BatchPlan plan(int ready, Duration waited, Arriving arriving, double bucketLevel, OperatingRoom operatingRoom) {
    if (operatingRoom.leads() < 1) {
      return BatchPlan.waitFor(operatingRoom.freesIn());
    }
    int fits = Math.min(ready, operatingRoom.leads());
    if (fits < ready || ready >= maxBatch) {
      return BatchPlan.send(fits);
    }
    if (arriving.growing() ? roomToSpare(bucketLevel, arriving) : !busy(bucketLevel)) {
      return BatchPlan.send(fits);
    }
    Duration leftToWait = permitInterval.minus(waited);
    if (leftToWait.compareTo(Duration.ZERO) <= 0) {
      return BatchPlan.send(fits);
    }
    // Ask again when the bound is reached or when the stream would count as ended, whichever comes first.
    Duration next = arriving.growing() && arriving.endsIn().compareTo(leftToWait) < 0 ? arriving.endsIn()
        : leftToWait;
    return BatchPlan.waitFor(next.plusMillis(1));
  }

  /**
   * Whether the bucket is at least half full. Then a partial batch waits to fill up to one permit's time even when
   * no lead arrived for a while: a broadcast whose arrival stalls for a moment (a group commit of a shared
   * database, a pause of the accepting node) comes back, and its leads would otherwise go in a partial request
   * each time, half a second of drain apiece once the bucket binds. The real tail of a broadcast has waited in the
   * backlog longer than that, so it goes at once.
   */
  private boolean busy(double bucketLevel) {
    return bucketLevel >= burst / 2.0;
  }

  /**
   * True if a partial batch's request costs nothing: after it, over half the bucket is still free, and the leads
   * arriving, sent in full batches, would take under half of what the bucket drains. A broadcast's leads come
   * faster than that: only its first lead goes alone (it cannot be told from a lone one); the next ones wait to
   * fill a batch, since each going alone would cost the broadcast half a second of drain once the bucket binds.
   * Two subscribers at once are such a burst too: the second waits until the stream ends (150 ms).
   */
  private boolean roomToSpare(double bucketLevel, Arriving arriving) {
    return burst - bucketLevel - 1 >= burst / 2.0 && arriving.count() >= RATE_KNOWN_AFTER
        && arriving.perSecond() / maxBatch < permitsPerSecond / 2;
  }

  /**
   * Arrivals in a stream before its rate says anything. A broadcast's first webhooks reach the sender one durable
   * commit apart (the first commit carries one webhook, the next the dozens that came meanwhile), tens of
   * milliseconds apart, and read as a slow trickle: measured at idle (DrainBenchmark, --spread and --at-once), its
   * second lead went alone and cost the drain a request. Until a few have come, a partial batch waits, at most the
   * stream's gap or one permit's time.
   */
  static final int RATE_KNOWN_AFTER = 5;

  /**
   * The arrivals as the planner sees them: still coming (and for how long without another), how many so far in this
   * stream, how fast.
   */
  record Arriving(boolean growing, Duration endsIn, int count, double perSecond) {
    static final Arriving NONE = new Arriving(false, Duration.ZERO, 0, 0);
  }

  /** How many leads the operating time left can take; when none, how long until the window frees. */
  record OperatingRoom(int leads, Duration freesIn) {
    static final OperatingRoom UNLIMITED = new OperatingRoom(Integer.MAX_VALUE, Duration.ZERO);
  }
}
