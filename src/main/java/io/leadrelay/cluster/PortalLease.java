package io.leadrelay.cluster;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * This node's side of its lease on one portal: whether it may act as the portal's owner right now, and with which
 * epoch. The lease itself is a row in PostgreSQL whose expiry the database computes from its own {@code now()};
 * this class only ever shortens it. A term is counted from the moment a renewal was <em>sent</em> (the database
 * granted it later than that, so its expiry is later still) and ends locally a quarter of the lease before: a node
 * that cannot renew stops acting before any other node can take the portal, whatever the network or a pause did.
 * Renewals go out every quarter of the lease, so two may fail before the term runs out.
 *
 * <p>Plain logic on an injected monotonic clock (nanoseconds). Called from one event loop;
 * {@link #isOwner()} and {@link #epoch()} may be read from any thread.
 */
public final class PortalLease {

  /** What an event did to this node's ownership, for the listeners. */
  public enum Change {
    NONE,
    /** This node owns the portal from now on, under the epoch given. */
    ACQUIRED,
    /** This node must not act for the portal any more. */
    LOST,
    /** The term ended and a new one began under a higher epoch: what was done under the old one is fenced. */
    NEW_TERM
  }

  /** One term of ownership: the fencing epoch and the local moment acting must stop. */
  private record Term(long epoch, long actUntilNanos) {
  }

  private final String portal;
  private final long actingWindowNanos;
  private final LongSupplier clock;
  private volatile Term term;
  private boolean renewing;
  private boolean released;

  public PortalLease(String portal, Duration lease, LongSupplier clock) {
    this.portal = portal;
    this.actingWindowNanos = actingWindow(lease).toNanos();
    this.clock = clock;
  }

  /** How often the owner renews, and a standby node tries to take the portal. */
  public static Duration renewEvery(Duration lease) {
    return lease.dividedBy(4);
  }

  /** How long after sending a successful renewal the owner may act. */
  public static Duration actingWindow(Duration lease) {
    return lease.minus(lease.dividedBy(4));
  }

  public String portal() {
    return portal;
  }

  /**
   * Starts a renewal (or, when not the owner, an attempt to take the portal) unless one is still under way.
   *
   * @return the moment it starts, to hand back to {@link #granted} or {@link #refused}; empty while one is pending
   */
  public OptionalLong begin() {
    if (renewing || released) {
      return OptionalLong.empty();
    }
    renewing = true;
    return OptionalLong.of(clock.getAsLong());
  }

  /** The database gave this node the lease under {@code epoch}; the term runs from when the request was sent. */
  public Change granted(long sentAtNanos, long epoch) {
    renewing = false;
    if (released) {
      return Change.NONE; // an answer that arrived after the node gave the portal up
    }
    Term previous = term;
    term = new Term(epoch, sentAtNanos + actingWindowNanos);
    if (previous == null) {
      return Change.ACQUIRED;
    }
    return previous.epoch() == epoch ? Change.NONE : Change.NEW_TERM;
  }

  /** Another node holds a live lease on the portal. */
  public Change refused() {
    renewing = false;
    return drop();
  }

  /** The database could not be asked: the term stands until it runs out, and not a moment longer. */
  public Change failed() {
    renewing = false;
    return expire();
  }

  /** Ends the term once its local deadline has passed (a timer calls this between renewals). */
  public Change expire() {
    Term current = term;
    return current != null && clock.getAsLong() - current.actUntilNanos() >= 0 ? drop() : Change.NONE;
  }

  /** Gives the portal up for good (shutting down): this node stops acting at once, whatever answers later. */
  public Change release() {
    released = true;
    return drop();
  }

  /** Whether this node may act as the portal's owner at this moment; read it right before every send. */
  public boolean isOwner() {
    Term current = term;
    return current != null && clock.getAsLong() - current.actUntilNanos() < 0;
  }

  /** The fencing epoch of the current term, while this node owns the portal. */
  public OptionalLong epoch() {
    Term current = term;
    return current != null && clock.getAsLong() - current.actUntilNanos() < 0
        ? OptionalLong.of(current.epoch()) : OptionalLong.empty();
  }

  private Change drop() {
    boolean held = term != null;
    term = null;
    return held ? Change.LOST : Change.NONE;
  }
}
