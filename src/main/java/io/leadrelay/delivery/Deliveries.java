package io.leadrelay.delivery;

import io.leadrelay.store.Accepted;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.Fence;
import io.leadrelay.store.NewDelivery;
import io.vertx.core.Future;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * The one place where deliveries move between states. Every component that accepts, drives, retries, kills or
 * replays a delivery says what happened in the domain's words here, and this class alone turns that into the
 * store's calls (whose flags, such as which reschedules count an attempt, are easy to get wrong at a call site).
 * It holds no state of its own: the store is the state, so several nodes sharing one store stay consistent.
 */
public final class Deliveries {

  private final DeliveryStore store;
  /** What the outcomes recorded through this instance are conditioned on; null: nothing (a single node). */
  private final Fence fence;

  public Deliveries(DeliveryStore store) {
    this(store, null);
  }

  private Deliveries(DeliveryStore store, Fence fence) {
    this.store = store;
    this.fence = fence;
  }

  /**
   * The same operations, with every outcome (delivered, held, retried, dead) recorded only while {@code fence}
   * holds: a portal's owner records through this, so that once another node has taken the portal its late
   * outcomes change nothing (they fail with {@code Fenced}). Null: unfenced.
   */
  public Deliveries fencedBy(Fence fence) {
    return new Deliveries(store, fence);
  }

  /** A webhook has arrived: durable before it is answered, leased to the node that drives it at once. */
  public Future<Accepted> accept(NewDelivery delivery, Duration repeatWindow, Instant leaseUntil) {
    return store.accept(delivery, repeatWindow, leaseUntil);
  }

  /**
   * As above, for a webhook whose sender is answered at {@code giveUpAt} whatever happens: if the store has not
   * begun to write it by then it is not stored at all (see {@link DeliveryStore#accept(NewDelivery, Duration,
   * Instant, Instant)}).
   */
  public Future<Accepted> accept(NewDelivery delivery, Duration repeatWindow, Instant leaseUntil, Instant giveUpAt) {
    return store.accept(delivery, repeatWindow, leaseUntil, giveUpAt);
  }

  /** Due deliveries not being driven by anyone, leased to the caller for {@code lease}. */
  public Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit) {
    return store.claimDue(now, lease, limit);
  }

  /** Due deliveries of these integrations only (those this node may drive), as {@link #claimDue}. */
  public Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit, Collection<String> integrations) {
    return store.claimDue(now, lease, limit, integrations);
  }

  /** The caller is still working on these: keep them away from the scheduler until {@code until}. */
  public Future<Void> stillWorking(Collection<String> ids, Instant until) {
    return store.renewLeases(ids, until);
  }

  /**
   * A portal's owner is still working on these deliveries of its portal, its own and those other nodes handed to
   * it: keep them away from the scheduler until {@code until}, while {@code fence} holds (null: a single node).
   */
  public Future<Void> stillWorking(Collection<String> ids, Instant until, Fence fence) {
    return store.renewLeases(ids, until, fence);
  }

  /** After a restart of the only node: whatever it had in flight may have reached the portal. */
  public Future<Integer> recoverInFlight(Instant now) {
    return store.releaseAllLeases(now);
  }

  /**
   * This node has taken a portal over under {@code fence}: every leased delivery of its integrations that this node
   * is not working on ({@code keep}) was held under an earlier term (the previous owner's backlog and requests in
   * flight, commands handed to it): due now, looked up before it is added again (the previous owner may have sent
   * it just before it died).
   */
  public Future<Integer> takeOverInFlight(Collection<String> integrations, Collection<String> keep, Fence fence,
                                          Instant now) {
    return store.releaseForNewOwner(integrations, keep, fence, now);
  }

  /** The lead exists (created now or found from an earlier attempt); null lead id in dry-run. */
  public Future<Void> markDelivered(String id, Long leadId, Attempt attempt) {
    return store.markDelivered(id, leadId, attempt, fence);
  }

  /**
   * Nothing was sent: the portal was held after a refusal, paused, or its queue was full. Due again at {@code at},
   * nothing counted, no history added.
   */
  public Future<Void> holdForPortal(String id, Instant at) {
    return store.reschedule(id, at, false, false, false, null, fence);
  }

  /** An attempt failed and the retry policy says try again; its decision says whether it counts and may exist. */
  public Future<Void> retryLater(String id, RetryPolicy.Retry retry, Attempt attempt) {
    return store.reschedule(id, retry.at(), retry.counts(), retry.counts(), retry.uncertain(), attempt, fence);
  }

  /**
   * The portal itself failed (paused): the attempt is recorded but not counted against the delivery, which waits
   * for the portal's next probe at {@code probeAt}.
   */
  public Future<Void> waitForPortal(String id, Instant probeAt, Attempt attempt) {
    return store.reschedule(id, probeAt, false, false, false, attempt, fence);
  }

  /** Given up with a reason an operator can act on; replayable once fixed. */
  public Future<Void> markDead(String id, String reason, Attempt attempt) {
    return store.markDead(id, reason, attempt, fence);
  }

  /**
   * It can never become a lead as it stands (no such integration, no mapping, an unreadable message): DEAD with the
   * reason, recorded as a rejection so that the history says nothing reached Bitrix24.
   */
  public Future<Void> quarantine(String id, String reason, Instant now) {
    return store.markDead(id, reason, new Attempt(now, "rejected", null, null, null, reason, null), fence);
  }

  /** A paused portal works again: its waiting deliveries are due now. */
  public Future<Integer> portalResumed(Collection<String> integrations, Instant now) {
    return store.wake(integrations, now);
  }

  /** An operator's replay of one DEAD or PENDING delivery: false if there is none or it is DELIVERED. */
  public Future<Boolean> replay(String id, Instant now) {
    return store.retry(id, now);
  }

  /** An operator's replay of every delivery in the state. */
  public Future<Integer> replayAll(DeliveryState state, Instant now) {
    return store.retryAll(state, now);
  }

  /** Delivered rows past their retention. */
  public Future<Integer> purgeDelivered(Instant deliveredBefore) {
    return store.purgeDelivered(deliveredBefore);
  }
}
