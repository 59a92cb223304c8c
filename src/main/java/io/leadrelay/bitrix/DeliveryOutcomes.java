package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.delivery.PortalState;
import io.leadrelay.delivery.RetryPolicy;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.mapping.LeadFieldGuard;
import io.leadrelay.metrics.RelayMetrics;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Fence;
import io.leadrelay.store.Fenced;
import io.leadrelay.store.StoreUnavailable;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What each outcome of a lead means for its delivery: the retry decision, the portal's state after it (resumed,
 * held, paused), the delivery's new state in the store, and only then its announcement on the bus. Also owns the
 * deliveries being worked on here, from arrival to recorded outcome (their store leases are renewed meanwhile, so
 * the scheduler re-drives one only if this node loses it), and each integration's status for /health.
 */
final class DeliveryOutcomes {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Deliveries deliveries;
  private final RetryPolicy policy;
  private final EventBus bus;
  private final Map<String, IntegrationStatus> statuses = new LinkedHashMap<>();
  /**
   * Deliveries owned here right now, with the portal sending each (null: dry-run, unknown integration): a second
   * copy (a re-drive racing the first) is dropped.
   */
  private final Map<String, PortalSender> owned = new HashMap<>();
  /** Deliveries being given back to the store unsent, which stopping waits for. */
  private final Set<Future<?>> releasing = new HashSet<>();
  private final RelayMetrics metrics;
  /** Schedules an outcome's next write while the store cannot be reached. */
  private final PortalQueue.Timer timer;
  /** Set when the relay stops: outcomes waiting for the store are left to the leases then. */
  private boolean stopped;

  /** First wait before an outcome is written again while the store cannot be reached; doubles up to the cap. */
  static final long REWRITE_FIRST_MS = 250;
  static final long REWRITE_MAX_MS = 2_000;

  DeliveryOutcomes(Deliveries deliveries, RetryPolicy policy, EventBus bus, Collection<String> integrations) {
    this(deliveries, policy, bus, integrations, RelayMetrics.NONE);
  }

  /** Counts every recorded outcome in {@code metrics}. */
  DeliveryOutcomes(Deliveries deliveries, RetryPolicy policy, EventBus bus, Collection<String> integrations,
                   RelayMetrics metrics) {
    this(deliveries, policy, bus, integrations, metrics, (delay, task) -> {
      throw new IllegalStateException("no timer to write an outcome again");
    });
  }

  /** {@code timer} schedules the next write of an outcome the store could not take (its database unreachable). */
  DeliveryOutcomes(Deliveries deliveries, RetryPolicy policy, EventBus bus, Collection<String> integrations,
                   RelayMetrics metrics, PortalQueue.Timer timer) {
    this.timer = timer;
    this.metrics = metrics;
    this.deliveries = deliveries;
    this.policy = policy;
    this.bus = bus;
    integrations.stream().sorted().forEach(name -> statuses.put(name, new IntegrationStatus()));
  }

  /** The relay stops: an outcome still waiting for the store is not written again (its lease brings it back). */
  void stop() {
    stopped = true;
  }

  /** Completes once the deliveries given back to the store (this node no longer sends them) are all stored. */
  Future<?> givenBack() {
    return Future.join(new java.util.ArrayList<>(releasing));
  }

  /** Takes a delivery on; false if it is already being worked on here. */
  boolean take(String deliveryId) {
    return take(deliveryId, null);
  }

  /** Takes a delivery on for the portal that sends it (null: none); false if it is already being worked on here. */
  boolean take(String deliveryId, PortalSender portal) {
    if (owned.containsKey(deliveryId)) {
      return false;
    }
    owned.put(deliveryId, portal);
    return true;
  }

  /** The deliveries being worked on here, whose leases must be kept. */
  List<String> owned() {
    return List.copyOf(owned.keySet());
  }

  /** The deliveries being worked on here for this portal. */
  List<String> ownedFor(PortalSender portal) {
    return owned.entrySet().stream().filter(e -> e.getValue() == portal).map(Map.Entry::getKey).toList();
  }

  /**
   * The deliveries being worked on here, by what their lease renewals are conditioned on: the portal's current
   * fence for those of a portal this node owns (they may carry another node's lease, handed over), none for the
   * rest (dry-run, a single node).
   */
  Map<Fence, List<String>> ownedByFence() {
    Map<Fence, List<String>> byFence = new HashMap<>();
    owned.forEach((id, portal) -> byFence.computeIfAbsent(portal == null ? null : portal.fence(),
        fence -> new java.util.ArrayList<>()).add(id));
    return byFence;
  }

  Map<String, IntegrationStatus> statuses() {
    return statuses;
  }

  /**
   * An integration's status for /health. A lead handed over by a node configured with an integration this node does
   * not have (a configuration that differs between nodes, warned about when the node joined) is still sent and
   * recorded here; its status is counted nowhere.
   */
  private IntegrationStatus status(String integration) {
    IntegrationStatus status = statuses.get(integration);
    return status != null ? status : new IntegrationStatus();
  }

  void unknownIntegration(LeadCommand command) {
    String reason = "No integration named '" + command.integration() + "' is configured any more.";
    dead(null, command, null, reason,
        new Attempt(Instant.now(), "rejected", null, null, null, "unknown integration", command.fields()),
        "unknown_integration");
  }

  /** Dry-run: the lead is logged as it would have been sent, and the delivery is done. */
  void dryRun(LeadCommand command) {
    status(command.integration()).succeeded(Instant.now());
    Attempt attempt = new Attempt(Instant.now(), "dry-run", null, null, null, null, command.fields());
    record(null, store -> store.markDelivered(command.deliveryId(), null, attempt), command, () -> {
      metrics.delivered(command.integration(), "dry_run", command.receivedAt());
      publishCreated(new LeadCreated(command.deliveryId(), command.integration(), null, true, elapsedMs(command),
            "dry-run", command.fields()));
    });
  }

  /** The portal's sending loop told what became of the lead. */
  void record(PortalSender portal, LeadCommand command, SendOutcome outcome) {
    if (outcome instanceof SendOutcome.NotOwner) {
      // Never sent from here: back to the store at once, due now, for whichever node owns the portal.
      Future<Void> released = deliveries.holdForPortal(command.deliveryId(), Instant.now());
      releasing.add(released);
      record(released.onComplete(done -> releasing.remove(released)), command, () -> {
      });
    } else if (!portal.owning()) {
      // Its request went out before this node lost the portal: the new owner drives the delivery from the store,
      // looked up first. Nothing is recorded from here any more.
      owned.remove(command.deliveryId());
      LOG.debug("Delivery {} is left to the portal's new owner", command.deliveryId());
    } else if (outcome instanceof SendOutcome.Sent sent) {
      succeeded(portal, command, sent);
    } else if (outcome instanceof SendOutcome.Held held) {
      held(portal, command, held.until());
    } else if (outcome instanceof SendOutcome.Failed failed) {
      failed(portal, command, failed.error());
    }
  }

  /** Puts a delivery back in the store, due at {@code at}, with nothing counted or recorded. */
  void later(PortalSender portal, LeadCommand command, Instant at) {
    record(portal, store -> store.holdForPortal(command.deliveryId(), at), command, () -> {
    });
  }

  /** The portal's deliveries as its owner may change them: fenced by its term when the store is shared. */
  private Deliveries of(PortalSender portal) {
    return deliveries.fencedBy(portal.fence());
  }

  private void succeeded(PortalSender portal, LeadCommand command, SendOutcome.Sent lead) {
    Instant now = Instant.now();
    portal.endProbe(command.deliveryId());
    status(command.integration()).succeeded(now);
    portal.progress().progressed(now);
    resume(portal, now);
    Attempt attempt = new Attempt(now, lead.action(), null, null, null, null, command.fields());
    record(portal, store -> store.markDelivered(command.deliveryId(), lead.leadId(), attempt), command, () -> {
      metrics.delivered(command.integration(), lead.action(), command.receivedAt());
      publishCreated(new LeadCreated(command.deliveryId(), command.integration(), lead.leadId(), false,
          elapsedMs(command), portal.config().masked(), null, lead.found()));
    });
  }

  /** Its turn came while the portal was held or paused: nothing was sent. */
  private void held(PortalSender portal, LeadCommand command, Instant until) {
    if (portal.endProbe(command.deliveryId())) {
      portal.state().probeInconclusive();
    }
    later(portal, command, until);
  }

  private void failed(PortalSender portal, LeadCommand command, BitrixError error) {
    Instant now = Instant.now();
    PortalState state = portal.state();
    boolean probe = portal.endProbe(command.deliveryId());
    if (retryWithoutCheckedFields(portal, command, error, probe)) {
      return;
    }
    status(command.integration()).failed(error, now);
    Attempt attempt = new Attempt(now, error.errorClass().eventCode(), error.errorClass().name(), error.httpStatus(),
        error.code(), error.description(), command.fields());
    Instant heldUntil = portal.refused(error, now);
    RetryPolicy.Decision decision = policy.decide(error, command.attempts(), command.firstFailedAt(), now, heldUntil);
    if (decision instanceof RetryPolicy.Retry retry) {
      if (probe) {
        state.probeInconclusive();
      }
      String next = "retry at " + retry.at();
      record(portal, store -> store.retryLater(command.deliveryId(), retry, attempt), command, () -> {
        metrics.deliveryFailed(command.integration(), "retry", error.errorClass().eventCode());
        publishFailure(command, error, error.reason(), next);
      });
    } else if (decision instanceof RetryPolicy.Dead dead) {
      if (probe) {
        // The portal answered about this lead's data: it works. Resume; the lead itself is dead.
        resume(portal, now);
      }
      dead(portal, command, error, dead.reason(), attempt, error.errorClass().eventCode());
    } else {
      // Requests already in flight when the portal broke fail too: only the first one and probes count.
      boolean newlyPaused = (!state.paused() || probe) && state.pause(error, now);
      Instant probeAt = state.nextProbeAt(now);
      record(portal, store -> store.waitForPortal(command.deliveryId(), probeAt, attempt), command, () -> {
        metrics.deliveryFailed(command.integration(), "waiting", error.errorClass().eventCode());
        if (newlyPaused) {
          LOG.error("Bitrix24 portal {} is paused: {} Deliveries wait (nothing is lost); it is tried again at {}.",
              portal.config().masked(), error.reason(), probeAt);
          publishFailure(command, error, "Portal paused: " + error.reason()
              + " Its deliveries wait and it is tried again with growing intervals.", "waiting for the portal");
        } else {
          LOG.warn("Bitrix24 portal {} is still failing: {} Next try at {}.", portal.config().masked(),
              error.reason(), probeAt);
        }
      });
    }
  }

  /**
   * Bitrix24 refused a field value the guard could not foresee (a custom field, a portal-specific rule): the lead
   * goes once more at once, with every checked field moved to COMMENTS. Nothing was created (the portal validates
   * before it adds), so this is no risk of a duplicate. False when the fields hold nothing to move: a second field
   * rejection then kills the lead as before.
   */
  private boolean retryWithoutCheckedFields(PortalSender portal, LeadCommand command, BitrixError error,
                                            boolean probe) {
    JsonObject fields = FieldRejection.isFieldError(error)
        ? LeadFieldGuard.withoutCheckedFields(command.fields()) : null;
    if (fields == null) {
      return false;
    }
    if (probe) {
      // The portal answered about this lead's data: it works again.
      resume(portal, Instant.now());
    }
    LOG.warn("Bitrix24 rejected a field of delivery {} ({}); sending it again with its checked fields in COMMENTS",
        command.deliveryId(), error.summary());
    LeadCommand again = new LeadCommand(command.deliveryId(), command.integration(), command.receivedAt(), fields,
        command.params(), command.attempts(), false, command.firstFailedAt());
    portal.submit(again).onSuccess(outcome -> record(portal, again, outcome));
    return true;
  }

  private void resume(PortalSender portal, Instant now) {
    if (portal.state().succeeded()) {
      LOG.info("Bitrix24 portal {} works again: its waiting deliveries resume", portal.config().masked());
      deliveries.portalResumed(portal.users(), now).onFailure(e -> {
        if (!StoreUnavailable.is(e)) {
          LOG.warn("Could not wake the waiting deliveries of portal {}; they go at their scheduled time instead: {}",
              portal.config().masked(), e.toString());
        }
      });
    }
  }

  private void dead(PortalSender portal, LeadCommand command, BitrixError error, String reason, Attempt attempt,
                    String code) {
    record(portal, store -> store.markDead(command.deliveryId(), reason, attempt), command, () -> {
      metrics.deliveryFailed(command.integration(), "dead", error == null ? null : error.errorClass().eventCode());
      bus.publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", command.deliveryId(),
            command.integration(), code, reason, error == null ? null : error.errorClass().name(),
            error == null ? null : error.httpStatus(), error == null ? null : error.code(), null,
            "dead: replay it with the admin API once fixed").toJson(), LOCAL);
    });
  }

  /**
   * Writes an outcome of a delivery of {@code portal} (null: none, dry-run) through the store as its owner may
   * change it (fenced by its term), then releases the delivery and announces the outcome.
   *
   * <p>While the store cannot be reached (its database restarting or cut off), the outcome is kept here and written
   * again, with growing waits, as long as this node still sends for the portal: once the database is back it is
   * recorded within a moment, instead of the delivery waiting out its lease to be looked up again. Each write is
   * fenced by the portal's term <em>then</em>: if this node lost the portal and won it again meanwhile, it is
   * still the only node acting for the portal, and the lead it created is still the delivery's. If this node no
   * longer sends for the portal, the outcome is left to the next owner, whose takeover looks the lead up.
   */
  private void record(PortalSender portal, Function<Deliveries, Future<?>> write, LeadCommand command,
                      Runnable announce) {
    write(portal, write, command, announce, REWRITE_FIRST_MS);
  }

  private void write(PortalSender portal, Function<Deliveries, Future<?>> write, LeadCommand command,
                     Runnable announce, long nextWait) {
    Future<?> stored = write.apply(portal == null ? deliveries : of(portal));
    stored.onComplete(done -> {
      if (done.failed() && StoreUnavailable.is(done.cause()) && !stopped) {
        LOG.debug("Outcome of delivery {} waits for the store: {}", command.deliveryId(), done.cause().getMessage());
        timer.schedule(nextWait, () -> {
          if (stopped || portal != null && !portal.owning()) {
            owned.remove(command.deliveryId());
            LOG.debug("Outcome of delivery {} is left to the portal's next owner", command.deliveryId());
          } else {
            write(portal, write, command, announce, Math.min(REWRITE_MAX_MS, nextWait * 2));
          }
        });
        return;
      }
      record(stored, command, announce);
    });
  }

  /**
   * Releases the delivery once the store has its outcome, then announces it. If the store fails, the delivery
   * stays leased and comes back after its lease: never lost, at worst looked up and not sent twice.
   */
  private void record(Future<?> stored, LeadCommand command, Runnable announce) {
    stored.onComplete(ar -> {
      owned.remove(command.deliveryId());
      if (ar.succeeded()) {
        announce.run();
      } else if (ar.cause() instanceof Fenced fenced) {
        // Another node took the portal meanwhile and drives this delivery now: its outcome is the one that counts.
        LOG.warn("Outcome of delivery {} not recorded: {}", command.deliveryId(), fenced.getMessage());
      } else if (StoreUnavailable.is(ar.cause())) {
        // Said once by the store; the delivery comes back when its lease runs out, looked up first.
        LOG.debug("Could not record the outcome of delivery {}: {}", command.deliveryId(), ar.cause().getMessage());
      } else {
        LOG.error("Could not record the outcome of delivery {} in the store: {}", command.deliveryId(),
            ar.cause().toString());
      }
    });
  }

  private static long elapsedMs(LeadCommand command) {
    return Math.max(0, Duration.between(command.receivedAt(), Instant.now()).toMillis());
  }

  private void publishCreated(LeadCreated created) {
    bus.publish(Addresses.LEAD_CREATED, created.toJson(), LOCAL);
  }

  private void publishFailure(LeadCommand command, BitrixError error, String reason, String next) {
    bus.publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", command.deliveryId(),
        command.integration(), error.errorClass().eventCode(), reason, error.errorClass().name(), error.httpStatus(),
        error.code(), null, next).toJson(), LOCAL);
  }
}
