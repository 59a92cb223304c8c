package io.leadrelay.delivery;

import io.leadrelay.bitrix.BitrixError;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;

/**
 * What the relay knows about one portal's willingness to take leads right now. Two things stop sending:
 * <ul>
 *   <li>a <b>hold</b> after a refusal before execution (QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT): every request
 *   would be refused too, so none goes out until the portal's wait is over; repeated refusals wait longer;</li>
 *   <li>a <b>pause</b> after a portal failure (wrong webhook code, no access, portal blocked): nothing will work
 *   until a person fixes it, so deliveries wait, and one real delivery is sent now and then as a probe, with the
 *   probe interval doubling up to a cap. Its success resumes the portal.</li>
 * </ul>
 * Not thread-safe: owned by one verticle's event loop.
 */
public final class PortalState {

  private static final Duration MAX_REFUSAL_HOLD = Duration.ofSeconds(60);
  /** Where the whole error (what to fix) is, since /health shows only its class and code. */
  private static final String DETAILS = "The full answer and what to do are in error.log.";

  private final Duration firstRefusalHold;
  private final Duration firstProbeDelay;
  private final Duration maxProbeDelay;

  private Instant heldUntil = Instant.EPOCH;
  private int refusalStreak;

  private BitrixError pausedBy;
  private Instant pausedSince;
  private Instant nextProbeAt;
  private Duration probeDelay;
  private boolean probing;

  /**
   * @param firstRefusalHold how long the first refusal holds the portal; each further one in a row doubles it,
   *                         up to a minute
   * @param firstProbeDelay  how long after a pause the first probe goes; each failed probe doubles it
   * @param maxProbeDelay    the longest wait between probes
   */
  public PortalState(Duration firstRefusalHold, Duration firstProbeDelay, Duration maxProbeDelay) {
    this.firstRefusalHold = firstRefusalHold;
    this.firstProbeDelay = firstProbeDelay;
    this.maxProbeDelay = maxProbeDelay.compareTo(firstProbeDelay) < 0 ? firstProbeDelay : maxProbeDelay;
  }

  /** A refusal before execution: hold the portal until the time it names, or for a growing while. */
  public Instant refused(BitrixError error, Instant now) {
    boolean named = error.retryAt() != null && error.retryAt().isAfter(now);
    if (held(now) && !named) {
      // Sent before the current hold began (several requests were in flight): the same refusal, not a new one.
      return heldUntil;
    }
    refusalStreak++;
    Instant until = named ? error.retryAt() : now.plus(refusalHold());
    if (until.isAfter(heldUntil)) {
      heldUntil = until;
    }
    return heldUntil;
  }

  private Duration refusalHold() {
    Duration hold = firstRefusalHold.multipliedBy(1L << Math.min(refusalStreak - 1, 20));
    return hold.compareTo(MAX_REFUSAL_HOLD) > 0 ? MAX_REFUSAL_HOLD : hold;
  }

  /** True while a refusal's hold lasts. */
  public boolean held(Instant now) {
    return heldUntil.isAfter(now);
  }

  public Instant heldUntil() {
    return heldUntil;
  }

  /**
   * A portal failure. Returns true if this paused an active portal (the moment to tell a person), false if the
   * portal was already paused (a failed probe: the next probe waits twice as long).
   */
  public boolean pause(BitrixError error, Instant now) {
    boolean wasActive = pausedBy == null;
    probeDelay = wasActive ? firstProbeDelay : min(probeDelay.multipliedBy(2), maxProbeDelay);
    if (wasActive) {
      pausedSince = now;
    }
    pausedBy = error;
    nextProbeAt = now.plus(probeDelay);
    probing = false;
    return wasActive;
  }

  public boolean paused() {
    return pausedBy != null;
  }

  /** While paused: true (once) when it is time to let one delivery through as a probe. */
  public boolean tryStartProbe(Instant now) {
    if (pausedBy == null || probing || now.isBefore(nextProbeAt)) {
      return false;
    }
    probing = true;
    return true;
  }

  /** When a waiting delivery should be looked at again while the portal is paused. */
  public Instant nextProbeAt(Instant now) {
    return probing || nextProbeAt.isBefore(now) ? now.plus(probeDelay) : nextProbeAt;
  }

  /** A lead went through. Returns true if this resumed a paused portal. */
  public boolean succeeded() {
    refusalStreak = 0;
    boolean resumed = pausedBy != null;
    pausedBy = null;
    pausedSince = null;
    nextProbeAt = null;
    probing = false;
    return resumed;
  }

  /**
   * An operator says the cause is fixed ("Resume now"): the next delivery goes at once as the probe, instead of
   * after the probe delay. Its success resumes the portal as any probe's does; a failure keeps it paused. Returns
   * false if the portal was not paused.
   */
  public boolean probeNow(Instant now) {
    if (pausedBy == null) {
      return false;
    }
    nextProbeAt = now;
    probing = false;
    return true;
  }

  /** A probe ended with neither success nor a portal failure (e.g. a refusal): let another one through. */
  public void probeInconclusive() {
    probing = false;
  }

  public BitrixError pausedBy() {
    return pausedBy;
  }

  /**
   * For /health: active, held or paused, and why — the error's class and code, not Bitrix24's text, which can quote
   * a lead's data (the full text is in error.log and the admin API).
   */
  public JsonObject toJson(Instant now) {
    JsonObject json = new JsonObject();
    if (pausedBy != null) {
      return json.put("state", "paused")
          .put("reason", pausedBy.withoutDescription().reason() + " " + DETAILS)
          .put("pausedSince", pausedSince.toString())
          .put("nextProbeAt", nextProbeAt.toString());
    }
    if (held(now)) {
      return json.put("state", "held").put("reason", "Bitrix24 refused requests; waiting until it accepts again")
          .put("heldUntil", heldUntil.toString());
    }
    return json.put("state", "active");
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
