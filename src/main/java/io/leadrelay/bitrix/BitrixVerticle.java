package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.BusCodec;
import io.leadrelay.cluster.Ownership;
import io.leadrelay.cluster.PortalOwnership;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.CrmTarget;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.delivery.RetryPolicy;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.metrics.RelayMetrics;
import io.leadrelay.store.Backlog;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.Fence;
import io.leadrelay.store.StoreUnavailable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Turns lead commands from the bus into Bitrix24 leads, exactly once, and records every outcome in the delivery
 * store before announcing it. It only wires: each portal's sending loop is a {@link PortalSender} (queue, limits,
 * batches, look-ups, holds and probes), and what an outcome means for the delivery is {@link DeliveryOutcomes}'s
 * (retry decision, store, announcement).
 */
public class BitrixVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");

  /**
   * Most leads kept waiting in memory per portal. Beyond it a lead waits in the store instead, due again about when
   * the queue ahead of it will have drained, so a long outage or a huge broadcast cannot exhaust the heap.
   */
  static final int MAX_QUEUED_PER_PORTAL = 20_000;
  /** The owner acknowledges a handed-over command as soon as it has it; no answer by then: it waits in the store. */
  private static final DeliveryOptions HAND_OVER = new DeliveryOptions().setSendTimeout(5_000);

  private final Map<String, IntegrationConfig> integrations;
  private final BitrixHttpConfig http;
  private final BitrixLimits limits;
  private final DeliveryConfig delivery;
  private final DeliveryStore store;
  private final int maxQueuedPerPortal;
  private final Map<PortalConfig, PortalSender> portals = new LinkedHashMap<>();
  /** Which portals this node sends for; {@link Ownership#SOLE} on a single node. */
  private final Ownership ownership;
  private final RelayMetrics metrics;
  /** The cluster-wide command address of each portal this node owns now, by portal key. */
  private final Map<String, MessageConsumer<Object>> ownedAddresses = new LinkedHashMap<>();
  private Context context;
  private DeliveryOutcomes outcomes;
  private BitrixClient client;
  private PortalControl control;
  private CrmModeWatch crmModes;
  private long leaseTimer = -1;

  public BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                        DeliveryConfig delivery, DeliveryStore store) {
    this(integrations, http, limits, delivery, store, Ownership.SOLE);
  }

  /** As above, sending only for the portals {@code ownership} gives this node, while it does. */
  public BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                        DeliveryConfig delivery, DeliveryStore store, Ownership ownership) {
    this(integrations, http, limits, delivery, store, MAX_QUEUED_PER_PORTAL, ownership, RelayMetrics.NONE);
  }

  /** As above, counting portal requests and delivery outcomes in {@code metrics}. */
  public BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                        DeliveryConfig delivery, DeliveryStore store, Ownership ownership, RelayMetrics metrics) {
    this(integrations, http, limits, delivery, store, MAX_QUEUED_PER_PORTAL, ownership, metrics);
  }

  BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                 DeliveryConfig delivery, DeliveryStore store, int maxQueuedPerPortal) {
    this(integrations, http, limits, delivery, store, maxQueuedPerPortal, Ownership.SOLE, RelayMetrics.NONE);
  }

  private BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                         DeliveryConfig delivery, DeliveryStore store, int maxQueuedPerPortal, Ownership ownership,
                         RelayMetrics metrics) {
    this.ownership = ownership;
    this.metrics = metrics;
    this.maxQueuedPerPortal = maxQueuedPerPortal;
    this.integrations = Map.copyOf(integrations);
    this.http = http;
    this.limits = limits;
    this.delivery = delivery;
    this.store = store;
  }

  @Override
  public Future<?> start() {
    client = new BitrixClient(vertx, http, new PortalTokens(store, integrations));
    client.measure(metrics);
    client.onTime((portal, method, time) -> {
      metrics.operatingTime(portal, method, time);
      PortalSender sender = portals.get(portal);
      if (sender != null) {
        sender.observeTime(method, time);
      }
    });
    crmModes = new CrmModeWatch(vertx, client);
    outcomes = new DeliveryOutcomes(new Deliveries(store), new RetryPolicy(delivery, RandomGenerator.getDefault()),
        vertx.eventBus(), integrations.keySet(), metrics, (delay, task) -> vertx.setTimer(delay, id -> task.run()));
    integrations.keySet().stream().sorted().forEach(name -> {
      IntegrationConfig integration = integrations.get(name);
      if (integration.dryRun()) {
        LOG.info("Integration {}: dry-run, leads are logged and not sent to Bitrix24", name);
        return;
      }
      PortalConfig portal = integration.portal().orElseThrow();
      portals.computeIfAbsent(portal, this::newPortal).users().add(name);
      crmModes.watch(portal);
      LOG.info("Integration {}: sends leads to {}", name, portal.masked());
      warnIfNoTokens(name, portal);
    });
    // Renew well before the lease runs out, so that a slow queue never looks like a lost delivery.
    long renewEvery = Math.max(1000, delivery.lease().toMillis() / 3);
    leaseTimer = vertx.setPeriodic(renewEvery, id -> renewLeases());
    BusCodec.registerAll(vertx.eventBus());
    MessageConsumer<Object> deliver = vertx.eventBus().localConsumer(Addresses.LEAD_DELIVER, this::deliver);
    MessageConsumer<JsonObject> health = vertx.eventBus().localConsumer(Addresses.HEALTH_BITRIX, this::health);
    control = new PortalControl(vertx, new Deliveries(store), ownership);
    return Future.all(deliver.completion(), health.completion()).compose(registered -> followOwnership());
  }

  /**
   * Every portal's sender runs only while this node owns the portal. The ownership's events come on its own event
   * loop and are carried over to this one; portals owned before this verticle started are taken up at once.
   */
  private Future<?> followOwnership() {
    if (ownership == Ownership.SOLE) {
      return Future.all(sendersByKey().entrySet().stream()
          .map(portal -> control.own(portal.getKey(), portal.getValue())).toList());
    }
    context = vertx.getOrCreateContext();
    portals.values().forEach(PortalSender::standBy);
    ownership.onAcquired((portal, epoch) -> context.runOnContext(v -> acquired(portal, epoch)));
    ownership.onLost(portal -> context.runOnContext(v -> lost(portal)));
    List<Future<?>> registered = new java.util.ArrayList<>();
    for (String portal : sendersByKey().keySet()) {
      ownership.epoch(portal).ifPresent(epoch -> registered.add(acquired(portal, epoch)));
    }
    return Future.all(registered);
  }

  /**
   * This node owns the portal from now on: its sender starts (from a full bucket), and lead commands from the
   * other nodes reach it at the portal's cluster-wide address. Deliveries earlier terms held (the previous owner's
   * backlog and requests in flight) come back through the scheduler a moment later, marked uncertain, so they are
   * looked up before re-adding.
   */
  private Future<?> acquired(String portal, long epoch) {
    PortalSender sender = sendersByKey().get(portal);
    boolean current = ownership.epoch(portal).orElse(-1) == epoch;
    if (sender == null || !current || sender.fence() != null && sender.fence().epoch() == epoch) {
      return Future.succeededFuture(); // lost again meanwhile, or already taken up under this epoch
    }
    sender.startOwning(new Fence(portal, epoch), () -> ownership.epoch(portal).orElse(-1) == epoch, Instant.now());
    MessageConsumer<Object> previous = ownedAddresses.remove(portal);
    if (previous != null) {
      previous.unregister();
    }
    MessageConsumer<Object> consumer = vertx.eventBus().consumer(Addresses.portalDeliver(portal),
        message -> deliverAsOwner(sender, message));
    ownedAddresses.put(portal, consumer);
    LOG.info("Sending for portal {} (epoch {}) on this node", portal, epoch);
    redriveInFlight(portal, sender, new Fence(portal, epoch));
    return Future.all(consumer.completion(), control.own(portal, sender));
  }

  /**
   * What earlier terms held of the portal's deliveries (the previous owner's backlog and requests in flight,
   * commands handed over to it, this node's own before it lost the portal) is re-driven from the store at once
   * after the takeover, instead of waiting out its delivery leases: each comes back uncertain, looked up in
   * Bitrix24 by its ORIGIN_ID before it is added again, so a lead the previous owner created just before it died
   * is found, not doubled. The previous owner cannot record an outcome any more (its writes are fenced by the
   * epoch), nor send (it stopped a quarter of the lease before the lease could be taken). The short settling wait
   * ({@link Ownership#settleAfterTakeover}) lets a request it sent just before it stopped finish at the portal.
   */
  private void redriveInFlight(String portal, PortalSender sender, Fence fence) {
    redriveInFlight(portal, sender, fence, ownership.settleAfterTakeover(), 0);
  }

  /**
   * One try at the re-drive after {@code delay}. A store that cannot be reached then (the database restarting just
   * as the portal changed hands) is tried again, 1 s later and doubling up to 10 s, as long as this node still owns
   * the portal under the same term: otherwise those deliveries would wait out their delivery leases (minutes).
   * Releasing twice costs at most look-ups: a delivery leased since the takeover (a fresh accept on its way here, a
   * claim of this node's scheduler not yet taken on) is released too, and is looked up before it is added. Any other
   * failure is not retried: those deliveries wait out their leases, as the warning says.
   */
  private void redriveInFlight(String portal, PortalSender sender, Fence fence, Duration delay, int failures) {
    vertx.setTimer(Math.max(1, delay.toMillis()), id -> {
      if (ownership.epoch(portal).orElse(-1) != fence.epoch()) {
        return;
      }
      new Deliveries(store).takeOverInFlight(sender.users(), outcomes.ownedFor(sender), fence, Instant.now())
          .onSuccess(released -> {
            if (released > 0) {
              LOG.info("Portal {} (epoch {}): {} deliveries held under earlier terms are retried here now, each"
                  + " looked up first", portal, fence.epoch(), released);
            }
          })
          .onFailure(e -> {
            if (!StoreUnavailable.is(e)) {
              LOG.warn("Portal {}: deliveries held under earlier terms are retried when their leases run out ({})",
                  portal, e.toString());
              return;
            }
            if (failures == 0) {
              LOG.warn("Portal {}: could not take up the deliveries held under earlier terms yet ({}); trying again"
                  + " while this node owns the portal", portal, e.getMessage());
            }
            Duration next = Duration.ofSeconds(Math.min(10, 1L << Math.min(failures, 4)));
            redriveInFlight(portal, sender, fence, next, failures + 1);
          });
    });
  }

  /** Another node owns the portal now (or may, any moment): stop sending at once; its deliveries stay stored. */
  private void lost(String portal) {
    PortalSender sender = sendersByKey().get(portal);
    if (sender != null) {
      sender.standBy();
    }
    control.disown(portal);
    MessageConsumer<Object> consumer = ownedAddresses.remove(portal);
    if (consumer != null) {
      consumer.unregister();
      LOG.info("No longer sending for portal {} on this node", portal);
    }
  }

  private Map<String, PortalSender> sendersByKey() {
    Map<String, PortalSender> byKey = new LinkedHashMap<>();
    portals.forEach((config, sender) -> byKey.put(PortalOwnership.keyOf(config), sender));
    return byKey;
  }

  /**
   * An OAuth portal with no tokens, neither configured nor stored, takes no lead until someone sends a pair: say so
   * at start, not only when the first lead is held back.
   */
  private void warnIfNoTokens(String integration, PortalConfig portal) {
    if (portal.oauth() == null || portal.oauth().accessToken() != null || portal.oauth().refreshToken() != null) {
      return;
    }
    store.loadTokens(portal.oauth().portalKey()).onComplete(stored -> {
      if (stored.succeeded() && stored.result().isEmpty()) {
        LOG.warn("Integration {}: the OAuth portal {} has no tokens yet (none configured, none stored); its leads"
            + " wait until a pair arrives through POST /admin/portals/{}/tokens, or set BITRIX_ACCESS_TOKEN and"
            + " BITRIX_REFRESH_TOKEN", integration, portal.masked(), integration);
      }
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(leaseTimer);
    if (outcomes != null) {
      outcomes.stop();
    }
    if (crmModes != null) {
      crmModes.stop();
    }
    ownedAddresses.values().forEach(MessageConsumer::unregister);
    ownedAddresses.clear();
    if (control != null) {
      control.close();
    }
    if (ownership != Ownership.SOLE) {
      // Another node sends for these portals next: the leads waiting here go back to the store, due now, before
      // the store closes (a single node keeps them leased; its next start re-drives them).
      portals.values().forEach(PortalSender::standBy);
    }
    if (client != null) {
      client.close();
    }
    return outcomes == null ? Future.succeededFuture() : outcomes.givenBack();
  }

  private PortalSender newPortal(PortalConfig portal) {
    if (portal.insecure()) {
      LOG.warn("Bitrix24 portal {} is plain http: its {} unencrypted", portal.masked(),
          portal.oauth() != null ? "OAuth tokens travel" : "webhook code travels");
    }
    metrics.operatingLimit(portal, limits.operatingLimitSeconds());
    return new PortalSender(portal, client, http, limits, delivery,
        (delay, task) -> vertx.setTimer(delay, id -> task.run()), Clock.systemUTC(), maxQueuedPerPortal,
        name -> integrations.containsKey(name) ? integrations.get(name).repeat() : null,
        name -> integrations.containsKey(name) && integrations.get(name).target() == CrmTarget.DEAL);
  }

  /** A lead command mapped on this node: sent from here if this node owns its portal, else handed to the owner. */
  private void deliver(Message<Object> message) {
    LeadCommand command = commandOf(message);
    if (command == null) {
      return;
    }
    IntegrationConfig integration = integrations.get(command.integration());
    PortalSender portal = integration == null || integration.dryRun() ? null
        : portals.get(integration.portal().orElseThrow());
    if (portal != null && !portal.owning()) {
      handOver(PortalOwnership.keyOf(portal.config()), command);
      return;
    }
    if (!outcomes.take(command.deliveryId(), portal)) {
      return;
    }
    if (integration == null) {
      outcomes.unknownIntegration(command);
    } else if (integration.dryRun()) {
      outcomes.dryRun(command);
    } else {
      send(portal, command);
    }
  }

  /** A lead command another node handed to this one as the portal's owner: acknowledged once taken. */
  private void deliverAsOwner(PortalSender portal, Message<Object> message) {
    LeadCommand command = commandOf(message);
    if (command == null) {
      message.fail(400, "malformed lead command");
      return;
    }
    if (!portal.owning()) {
      message.fail(503, "not the portal's owner");
      return;
    }
    message.reply(null);
    if (outcomes.take(command.deliveryId(), portal)) {
      send(portal, command);
    }
  }

  private void send(PortalSender portal, LeadCommand command) {
    Instant waitUntil = portal.admit(command, Instant.now(),
        sent -> sent.onSuccess(outcome -> outcomes.record(portal, command, outcome)));
    if (waitUntil != null) {
      outcomes.later(portal, command, waitUntil);
    }
  }

  /**
   * Hands the command to the portal's owner over the cluster. With no owner, no answer or a refusal, the delivery
   * is released in the store instead, due now: the owner's scheduler claims it (nothing is lost, nothing sent here).
   */
  private void handOver(String portal, LeadCommand command) {
    // The record (BusCodec): to the owner's node as its exact JSON text, as it is if this node is the owner.
    vertx.eventBus().request(Addresses.portalDeliver(portal), command, HAND_OVER).onFailure(failure -> {
      LOG.debug("Delivery {} waits in the store for portal {}'s owner: {}", command.deliveryId(), portal,
          failure.getMessage());
      new Deliveries(store).holdForPortal(command.deliveryId(), Instant.now()).onFailure(e -> {
        if (!StoreUnavailable.is(e)) {
          LOG.warn("Could not release delivery {} for portal {}'s owner; it is taken when its lease runs out: {}",
              command.deliveryId(), portal, e.toString());
        }
      });
    });
  }

  /** The record the relay sends (BusCodec), or its JSON form (a relay of an earlier release, tests). */
  private static LeadCommand commandOf(Message<Object> message) {
    if (message.body() instanceof LeadCommand command) {
      return command;
    }
    try {
      return LeadCommand.fromJson((JsonObject) message.body());
    } catch (RuntimeException e) {
      LOG.error("Dropped a malformed lead command: {}", e.toString());
      return null;
    }
  }

  /**
   * Keeps the leases of every delivery worked on here. A portal's owner renews those of its portal under its fence,
   * whichever node accepted them (a command handed over carries the accepting node's lease), so a long backlog
   * never runs out into a second copy; a single node renews its own.
   */
  private void renewLeases() {
    Instant until = Instant.now().plus(delivery.lease());
    outcomes.ownedByFence().forEach((fence, ids) -> new Deliveries(store).stillWorking(ids, until, fence)
        .onFailure(e -> {
          // An unreachable store has said so once; the next renewal comes well before the leases run out.
          if (!StoreUnavailable.is(e)) {
            LOG.warn("Could not renew delivery leases: {}", e.toString());
          }
        }));
  }

  private void health(Message<JsonObject> message) {
    Instant now = Instant.now();
    store.backlog().otherwise(List.of()).onSuccess(backlogs -> {
      Map<String, Backlog> byIntegration = new LinkedHashMap<>();
      backlogs.forEach(b -> byIntegration.put(b.integration(), b));
      JsonObject report = new JsonObject();
      boolean degraded = false;
      for (Map.Entry<String, IntegrationStatus> entry : outcomes.statuses().entrySet()) {
        String name = entry.getKey();
        PortalConfig config = integrations.get(name).portal().orElse(null);
        PortalSender portal = config == null ? null : portals.get(config);
        JsonObject json = entry.getValue().toJson(config, portal == null ? null : portal.queue());
        json.mergeIn(portal == null ? new JsonObject().put("state", "active") : portal.state().toJson(now));
        if (config != null) {
          json.put("crmMode", crmModes.mode(config).label());
        }
        Backlog backlog = byIntegration.get(name);
        json.put("backlog", backlog == null ? 0 : backlog.pending());
        json.put("oldestPendingAgeSeconds", backlog == null || backlog.oldestPendingReceivedAt() == null ? null
            : Duration.between(backlog.oldestPendingReceivedAt(), now).toSeconds());
        json.put("oldestPendingAt", backlog == null || backlog.oldestPendingReceivedAt() == null ? null
            : backlog.oldestPendingReceivedAt().toString());
        json.put("dead", backlog == null ? 0 : backlog.dead());
        // Only the portal's owner alerts about it, so that a cluster tells a person once.
        json.put("ownedHere", portal == null || portal.owning());
        Optional<Instant> stalledSince = config == null ? Optional.empty() : portal.progress().stalledSince(
            backlog == null ? null : backlog.oldestPendingReceivedAt(), now);
        json.put("lastProgressAt", config == null ? null : portal.progress().lastProgressAt().toString());
        stalledSince.ifPresent(since -> json.put("stalledSince", since.toString()).put("stalled",
            "leads have been waiting since " + since + " and none was delivered"));
        degraded |= portal != null && portal.state().paused() || stalledSince.isPresent();
        report.put(name, json);
      }
      message.reply(new JsonObject().put("status", degraded ? "DEGRADED" : "UP").put("portals", report));
    });
  }
}
