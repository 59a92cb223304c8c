package io.leadrelay.store;

import io.vertx.core.Future;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The durable record of every accepted webhook and of its delivery: where "nothing lost" lives. Every method
 * returns once the change is committed to disk; none blocks the calling event loop. Implementations: SQLite
 * (embedded, single node); PostgreSQL later (several nodes), with the same semantics.
 */
public interface DeliveryStore extends TokenStore {

  /**
   * Stores a new PENDING delivery, due now and leased until {@code leaseUntil} (the caller drives it at once), unless
   * a delivery with the same integration and body hash arrived within {@code repeatWindow}: then nothing is stored
   * and the earlier id comes back with {@code repeat = true}.
   */
  Future<Accepted> accept(NewDelivery delivery, Duration repeatWindow, Instant leaseUntil);

  /**
   * As {@link #accept(NewDelivery, Duration, Instant)}, for a caller that stops waiting at {@code giveUpAt} (its
   * sender is told 503 then): a store that queues accepts withdraws one still in its queue by then, so that it is
   * not stored after all (failing with {@link StoreUnavailable}). One already taken into a group (waiting for a
   * connection, or being written) may still be stored. Stores that write at once ignore it.
   */
  default Future<Accepted> accept(NewDelivery delivery, Duration repeatWindow, Instant leaseUntil,
                                  Instant giveUpAt) {
    return accept(delivery, repeatWindow, leaseUntil);
  }

  /**
   * PENDING deliveries whose next attempt is due at {@code now} and whose lease is free or expired, oldest first, at
   * most {@code limit}; they come back leased until {@code now + lease}. One whose lease had expired was in flight
   * when its driver was lost, so it comes back (and stays) {@code uncertain}.
   */
  Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit);

  /** Extends the leases of deliveries still being worked on (queued or in flight) to {@code until}. */
  Future<Void> renewLeases(Collection<String> ids, Instant until);

  /**
   * Called once at start-up by the only node (single-node stores): leases taken before are void, and their
   * deliveries may have been in flight, so they become due now and uncertain. Returns how many.
   */
  Future<Integer> releaseAllLeases(Instant now);

  /** The lead exists: DELIVERED with its id (null in dry-run: no portal); the lease is released. */
  Future<Void> markDelivered(String id, Long leadId, Attempt attempt);

  /**
   * Not delivered yet: stays PENDING, due at {@code nextAttemptAt}, lease released. {@code countAttempt} adds one
   * to its attempts (refusals before execution do not count); {@code failing} starts its run of failures if none is
   * running (first-failed time); {@code uncertain} marks that the lead may exist (never clears a mark).
   * {@code attempt} null: nothing was tried (the portal was held or paused), so no history row is added and the
   * last error stays as it was.
   */
  Future<Void> reschedule(String id, Instant nextAttemptAt, boolean countAttempt, boolean failing,
                          boolean uncertain, Attempt attempt);

  /** Given up: DEAD with the reason; the lease is released. */
  Future<Void> markDead(String id, String reason, Attempt attempt);

  // --- fenced outcomes (a portal's owner on a shared store) ---
  // A single-node store has one writer for its whole life: nobody can have taken the portal, so the fence always
  // holds and these are the plain outcomes. A shared store applies them only while the fence holds, and fails with
  // Fenced when it changed nothing because it did not.

  /** {@link #markDelivered}, only while {@code fence} holds (null: unfenced). */
  default Future<Void> markDelivered(String id, Long leadId, Attempt attempt, Fence fence) {
    return markDelivered(id, leadId, attempt);
  }

  /** {@link #reschedule}, only while {@code fence} holds (null: unfenced). */
  default Future<Void> reschedule(String id, Instant nextAttemptAt, boolean countAttempt, boolean failing,
                                  boolean uncertain, Attempt attempt, Fence fence) {
    return reschedule(id, nextAttemptAt, countAttempt, failing, uncertain, attempt);
  }

  /** {@link #markDead}, only while {@code fence} holds (null: unfenced). */
  default Future<Void> markDead(String id, String reason, Attempt attempt, Fence fence) {
    return markDead(id, reason, attempt);
  }

  /**
   * {@link #claimDue} restricted to these integrations (null: all). A node claims only what it may drive: the
   * integrations of the portals it owns, and dry-run ones. A single-node store has one claimer, which owns every
   * portal and never restricts.
   */
  default Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit, Collection<String> integrations) {
    return claimDue(now, lease, limit);
  }

  /**
   * {@link #renewLeases} by a portal's owner for the deliveries of that portal it works on, only while {@code fence}
   * holds, whichever node took the lease: a lead command another node accepted and handed to the owner carries
   * that node's lease, which would otherwise run out while the command waits in the owner's backlog and bring it
   * back a second time. Such a lease becomes the owner's. A single-node store has one owner: the plain renewal.
   */
  default Future<Void> renewLeases(Collection<String> ids, Instant until, Fence fence) {
    return renewLeases(ids, until);
  }

  /**
   * A new owner takes over a portal whose previous owner may have died or paused mid-call: every PENDING delivery
   * of these integrations that is leased, except those this node works on ({@code keep}), is released, due now and
   * uncertain (looked up before it is added again), instead of waiting out its lease. Applied only while
   * {@code fence} holds. Returns how many. A single-node store has no other node, and releases nothing.
   */
  default Future<Integer> releaseForNewOwner(Collection<String> integrations, Collection<String> keep, Fence fence,
                                             Instant now) {
    return Future.succeededFuture(0);
  }

  /** Makes the PENDING, unleased deliveries of these integrations due now (a paused portal resumed). */
  Future<Integer> wake(Collection<String> integrations, Instant now);

  /** One delivery with its attempt history. */
  Future<Optional<DeliveryRecord>> find(String id);

  /**
   * Deliveries newest first, optionally of one state, with ids below {@code beforeId} (for paging; null: from
   * the newest), at most {@code limit}. History is left empty.
   */
  Future<List<DeliveryRecord>> list(DeliveryState state, String beforeId, int limit);

  /**
   * Deliveries matching the filter, newest first, at most {@code limit}; history left empty. The admin page's list
   * and search: the filter's needle matches the subscriber's names, phone or e-mail ({@link SubscriberText}) or
   * is the delivery id.
   */
  Future<List<DeliveryRecord>> search(DeliveryFilter filter, int limit);

  /** How many deliveries match the filter (its {@code beforeId} included). */
  Future<Long> count(DeliveryFilter filter);

  /**
   * Replays a DEAD or PENDING delivery: PENDING, due now, lease released, its run of failures forgotten (attempts
   * and history are kept). A DELIVERED one is not replayed (that would make a second lead). False if there is no
   * such delivery or it is DELIVERED.
   */
  Future<Boolean> retry(String id, Instant now);

  /** {@link #retry} for every delivery in the state (DEAD or PENDING); returns how many. */
  Future<Integer> retryAll(DeliveryState state, Instant now);

  /** Deletes DELIVERED deliveries delivered before {@code deliveredBefore}; returns how many. */
  Future<Integer> purgeDelivered(Instant deliveredBefore);

  /** Per integration: PENDING count and oldest arrival, DEAD count. Integrations with neither are left out. */
  Future<List<Backlog>> backlog();

  /** Tells {@code observer} of every group commit from now on (for metrics); stores without one ignore it. */
  default void observeCommits(CommitObserver observer) {
  }

  // --- OAuth application tokens (see TokenStore) ---

  /** The OAuth token pair saved last for a portal (keyed by its URL), if any. */
  @Override
  Future<Optional<TokenPair>> loadTokens(String portal);

  /** Replaces a portal's OAuth token pair, committed to disk before the future completes. */
  @Override
  Future<Void> saveTokens(String portal, TokenPair tokens);

  Future<Void> close();
}
