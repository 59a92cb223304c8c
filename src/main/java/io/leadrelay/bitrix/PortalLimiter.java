package io.leadrelay.bitrix;

import java.time.Duration;
import java.time.Instant;

/**
 * The relay's model of a portal's request budget: Bitrix24 counts every HTTP request into a leaky bucket that drains
 * at {@code rate} per second and refuses requests (503 QUERY_LIMIT_EXCEEDED) while it holds more than {@code burst}.
 * Asking here before each request keeps the relay just under that line, so a backlog drains at the portal's
 * ceiling without being refused. Other applications share the bucket, so a refusal the model did not predict means
 * the bucket is fuller than thought: the model then takes it as full and waits for it to drain.
 * Not thread-safe: used on one event loop; time is passed in, so it is tested on a fake clock.
 */
public final class PortalLimiter {

  /** Bitrix24's documented plans: burst and drain rate per second. */
  public enum Plan {
    STANDARD(50, 2), ENTERPRISE(250, 5);

    public final int burst;
    public final double rate;

    Plan(int burst, double rate) {
      this.burst = burst;
      this.rate = rate;
    }
  }

  private final double burst;
  /** Room kept free at the top of the bucket, in requests (see the three-argument constructor). */
  private final double headroom;
  /** When the request that found the bucket empty was permitted: the portal's drain began when it arrived. */
  private Instant busySince;
  private final double ratePerMilli;
  private double level;
  private Instant updatedAt = Instant.EPOCH;

  public PortalLimiter(int burst, double ratePerSecond) {
    this(burst, ratePerSecond, 0);
  }

  /**
   * As above, keeping {@code headroom} requests free at the top of the bucket: the portal counts a request when it
   * arrives, not when it was permitted, so two requests permitted 500 ms apart may arrive closer together (a busy
   * connection, a pause on either side), and at a full bucket the later one would be refused and hold the whole
   * portal for a second. Half a request is 250 ms of such jitter at 2 per second.
   */
  public PortalLimiter(int burst, double ratePerSecond, double headroom) {
    if (burst < 1 || !(ratePerSecond > 0) || headroom < 0 || headroom >= burst) {
      throw new IllegalArgumentException("burst must be at least 1, rate above 0, headroom from 0 to below burst");
    }
    this.burst = burst;
    this.headroom = headroom;
    this.ratePerMilli = ratePerSecond / 1000.0;
  }

  /**
   * Takes a permit for one request if the bucket has room now and returns zero; otherwise takes nothing and returns
   * how long until it will have room.
   */
  public Duration tryAcquire(Instant now) {
    return tryAcquire(now, 1);
  }

  /**
   * {@link #tryAcquire(Instant)} for several requests that must go together (all or none), e.g. a look-up and the
   * add that follows it. More requests than the bucket holds (2 with a bucket of 1) could never fit: they go once
   * the bucket is empty, and the model runs over by the excess, which later requests then wait to drain. The
   * requests go one after the other, not at once, so the real bucket has drained a little between them.
   */
  public Duration tryAcquire(Instant now, int requests) {
    drain(now);
    double room = Math.max(burst - headroom, requests);
    if (level + requests <= room) {
      if (level == 0) {
        busySince = now;
      }
      level += requests;
      return Duration.ZERO;
    }
    double waitMillis = (level + requests - room) / ratePerMilli;
    return Duration.ofMillis((long) Math.ceil(waitMillis));
  }

  /**
   * A request permitted at {@code permittedAt} was answered at {@code answeredAt}. The portal counts a request when
   * it arrives, not when it was permitted: if this one found the bucket empty, the portal's drain began when it
   * arrived, up to its whole round trip after the model's (a new connection, a pause on either side), and while the
   * bucket stays busy the portal's level stays that much above the model's; at a full bucket the next request would
   * be refused and hold the whole portal for a second. So the model adds the drain of that round trip back.
   */
  public void answered(Instant permittedAt, Instant answeredAt) {
    answered(permittedAt, answeredAt, Duration.ZERO);
  }

  /**
   * As above, where the portal said it spent {@code atPortal} on the request (its answer's {@code time.duration}):
   * the request cannot have arrived later than that before its answer, so only the rest of the round trip is added
   * back. A batch of 50 adds runs for seconds at a real portal; counted as transit, it would hold the next requests
   * for as long.
   */
  public void answered(Instant permittedAt, Instant answeredAt, Duration atPortal) {
    if (permittedAt.equals(busySince) && answeredAt.isAfter(permittedAt)) {
      drain(answeredAt);
      long transitNanos = Duration.between(permittedAt, answeredAt).minus(atPortal).toNanos();
      level += Math.max(0, transitNanos) / 1e6 * ratePerMilli;
      busySince = null;
    }
  }

  /** Counts a request that must go regardless (a look-up after a lost batch answer). */
  public void record(Instant now) {
    drain(now);
    level += 1;
  }

  /** Bitrix24 refused a request the model let through: the bucket is full, whoever filled it. */
  public void refused(Instant now) {
    drain(now);
    level = Math.max(level, burst);
  }

  /** How full the model thinks the bucket is, in requests. */
  public double level(Instant now) {
    drain(now);
    return level;
  }

  private void drain(Instant now) {
    if (now.isAfter(updatedAt)) {
      // To the nanosecond: whole milliseconds would drop the fraction at every call, and a queue asking every
      // millisecond or so would see the bucket drain markedly slower than the portal's.
      long elapsedNanos = Duration.between(updatedAt, now).toNanos();
      level = Math.max(0, level - elapsedNanos / 1e6 * ratePerMilli);
      updatedAt = now;
    }
  }
}
