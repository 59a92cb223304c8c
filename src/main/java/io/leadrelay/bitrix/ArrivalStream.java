package io.leadrelay.bitrix;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * When leads joined a portal's queue lately: whether more are coming (a broadcast is arriving) and how fast. A lead
 * that comes alone after a quiet spell is not a stream, so it is sent at once; the second of two leads close together
 * is, so a partial batch may wait for more. Not thread-safe: used on one event loop; time is passed in.
 */
final class ArrivalStream {

  /** Arrivals kept to estimate the rate: enough to smooth a group commit's bursts, few enough to follow a change. */
  private static final int KEPT = 32;

  private final Duration gap;
  private final Deque<Instant> recent = new ArrayDeque<>();
  /** Leads in the current stream: since the last gap longer than the stream's gap. */
  private int streamCount;

  /** @param gap arrivals further apart than this are not one stream; a stream with no arrival for this long ended */
  ArrivalStream(Duration gap) {
    this.gap = gap;
  }

  void arrived(Instant at) {
    boolean joins = !recent.isEmpty() && Duration.between(recent.getLast(), at).compareTo(gap) <= 0;
    streamCount = joins ? streamCount + 1 : 1;
    recent.addLast(at);
    if (recent.size() > KEPT) {
      recent.removeFirst();
    }
  }

  /** True while leads keep coming: the last two came within the gap, and the last one within the gap of now. */
  boolean growing(Instant now) {
    if (recent.size() < 2) {
      return false;
    }
    var backwards = recent.descendingIterator();
    Instant last = backwards.next();
    Instant before = backwards.next();
    return Duration.between(before, last).compareTo(gap) <= 0 && Duration.between(last, now).compareTo(gap) <= 0;
  }

  /** How long until the stream counts as ended if nothing more arrives (zero once it has). */
  Duration untilEnded(Instant now) {
    if (recent.isEmpty()) {
      return Duration.ZERO;
    }
    Duration left = gap.minus(Duration.between(recent.getLast(), now));
    return left.isNegative() ? Duration.ZERO : left;
  }

  /** How many leads the current stream has brought so far (0 once it ended). */
  int count(Instant now) {
    return growing(now) ? streamCount : 0;
  }

  /** Leads per second over the recent arrivals of the current stream; 0 when there is no stream. */
  double perSecond(Instant now) {
    if (!growing(now)) {
      return 0;
    }
    // Only the arrivals of this stream: walk back from the newest while the gaps stay within the stream's gap.
    Instant newest = recent.getLast();
    Instant oldest = newest;
    int count = 0;
    var backwards = recent.descendingIterator();
    Instant later = null;
    while (backwards.hasNext()) {
      Instant at = backwards.next();
      if (later != null && Duration.between(at, later).compareTo(gap) > 0) {
        break;
      }
      oldest = at;
      later = at;
      count++;
    }
    long spanMicros = Math.max(1, Duration.between(oldest, newest).toNanos() / 1000);
    return (count - 1) * 1e6 / spanMicros;
  }
}
