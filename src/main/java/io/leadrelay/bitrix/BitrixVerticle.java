package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.delivery.PortalState;
import io.leadrelay.delivery.RetryPolicy;
import io.leadrelay.delivery.StallWatch;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.mapping.LeadFieldGuard;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Backlog;
import io.leadrelay.store.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Turns lead commands into Bitrix24 leads, exactly once, and records every outcome in the delivery store before
 * announcing it. Per portal: a {@link PortalQueue} (order, concurrency) and a {@link PortalState} (holds after
 * refusals, pause after portal failures). Per attempt: a delivery whose earlier attempt may have created its lead is
 * looked up by ORIGIN_ID before it is added again; a failure goes to the {@link RetryPolicy}.
 *
 * <p>A delivery is owned here from arrival to its recorded outcome; its store lease is renewed meanwhile, so the
 * scheduler re-drives it only if this verticle (or the process) is lost.
 */
public class BitrixVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Map<String, IntegrationConfig> integrations;
  private final BitrixHttpConfig http;
  private final BitrixLimits limits;
  private final DeliveryConfig delivery;
  private final BatchEncoder encoder = new BatchEncoder();
  private final DeliveryStore store;
  private final Deliveries deliveries;
  private final RetryPolicy policy;
  private final Map<PortalConfig, Portal> portals = new LinkedHashMap<>();
  private final Map<String, IntegrationStatus> statuses = new LinkedHashMap<>();
  /** Per portal: when a lead last got through, for /health to tell a stuck queue. */
  private final Map<PortalConfig, StallWatch> progress = new LinkedHashMap<>();
  /** Deliveries owned here right now: a second copy (a re-drive racing the first) is dropped. */
  private final Set<String> owned = new HashSet<>();
  /** Deliveries let through a paused portal to see whether it works again. */
  private final Set<String> probes = new HashSet<>();
  private BitrixClient client;
  private long leaseTimer = -1;

  /**
   * One portal's queue, state and model of its limits, shared by the integrations that deliver to it (Bitrix24
   * counts limits per portal and webhook, whoever calls).
   */
  private record Portal(PortalConfig config, PortalQueue<LeadResult> queue, PortalState state,
                        PortalLimiter limiter, OperatingTimePacer pacer, List<String> users) {
  }

  private static final String ADD = "crm.lead.add";
  /** The batch call's own operating time is paced too (its outer {@code time} block). */
  private static final String BATCH = "batch";
  /**
   * Most leads kept waiting in memory per portal. Beyond it a lead waits in the store instead, due again about when
   * the queue ahead of it will have drained, so a long outage or a huge broadcast cannot exhaust the heap.
   */
  static final int MAX_QUEUED_PER_PORTAL = 20_000;
  private final int maxQueuedPerPortal;
  /** Above this share of the burst in use, a request that would carry less than a full batch waits to fill. */
  private static final double PARTIAL_BATCH_LEVEL = 0.1;

  /** A lead that exists: created now, or found from an earlier attempt. */
  private record LeadResult(long id, boolean found) {
  }

  public BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                        DeliveryConfig delivery, DeliveryStore store) {
    this(integrations, http, limits, delivery, store, MAX_QUEUED_PER_PORTAL);
  }

  BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http, BitrixLimits limits,
                 DeliveryConfig delivery, DeliveryStore store, int maxQueuedPerPortal) {
    this.maxQueuedPerPortal = maxQueuedPerPortal;
    this.integrations = Map.copyOf(integrations);
    this.http = http;
    this.limits = limits;
    this.delivery = delivery;
    this.store = store;
    this.deliveries = new Deliveries(store);
    this.policy = new RetryPolicy(delivery, RandomGenerator.getDefault());
  }

  @Override
  public Future<?> start() {
    client = new BitrixClient(vertx, http, new PortalTokens(store, integrations));
    client.onTime(this::observeTime);
    integrations.keySet().stream().sorted().forEach(name -> {
      IntegrationConfig integration = integrations.get(name);
      statuses.put(name, new IntegrationStatus());
      if (integration.dryRun()) {
        LOG.info("Integration {}: dry-run, leads are logged and not sent to Bitrix24", name);
        return;
      }
      PortalConfig portal = integration.portal().orElseThrow();
      portals.computeIfAbsent(portal, this::newPortal).users().add(name);
      progress.computeIfAbsent(portal, p -> new StallWatch(delivery.stallAfter(), Instant.now()));
      LOG.info("Integration {}: sends leads to {}", name, portal.masked());
      warnIfNoTokens(name, portal);
    });
    // Renew well before the lease runs out, so that a slow queue never looks like a lost delivery.
    long renewEvery = Math.max(1000, delivery.lease().toMillis() / 3);
    leaseTimer = vertx.setPeriodic(renewEvery, id -> renewLeases());
    MessageConsumer<JsonObject> deliver = vertx.eventBus().consumer(Addresses.LEAD_DELIVER, this::deliver);
    MessageConsumer<JsonObject> health = vertx.eventBus().consumer(Addresses.HEALTH_BITRIX, this::health);
    return Future.all(deliver.completion(), health.completion());
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
    if (client != null) {
      client.close();
    }
    return Future.succeededFuture();
  }

  private Portal newPortal(PortalConfig portal) {
    if (portal.insecure()) {
      LOG.warn("Bitrix24 portal {} is plain http: its {} unencrypted", portal.masked(),
          portal.oauth() != null ? "OAuth tokens travel" : "webhook code travels");
    }
    // A refused request is retried after about a second (the bucket drains 2 per second), a broken portal is
    // probed after 15 retry bases (30 s by default); both grow up to their caps.
    Duration firstRefusalHold = delivery.retryBase().compareTo(Duration.ofSeconds(1)) < 0
        ? delivery.retryBase() : Duration.ofSeconds(1);
    PortalState state = new PortalState(firstRefusalHold, delivery.retryBase().multipliedBy(15),
        delivery.retryMax());
    PortalLimiter limiter = new PortalLimiter(limits.burst(), limits.ratePerSecond());
    OperatingTimePacer pacer = new OperatingTimePacer(limits.operatingLimitSeconds(), 0.1);
    // One permit's worth of time: how long a partial batch may wait for company.
    Duration permitInterval = Duration.ofMillis((long) Math.ceil(1000 / limits.ratePerSecond()));
    PortalQueue.Gate gate = (now, requests, leadCount, waited) -> {
      // A hold after a refusal and the operating-time window come first: no permit is spent while they last.
      Instant clear = pacer.clearAt(now, ADD, BATCH);
      if (state.heldUntil().isAfter(clear)) {
        clear = state.heldUntil();
      }
      if (clear.isAfter(now)) {
        return Duration.between(now, clear);
      }
      // Permits are the scarce thing under load: once the bucket is filling, a request that would carry less than
      // a full batch waits up to one permit's time for more leads to join it. At idle the bucket is empty and a
      // lone lead goes at once.
      if (leadCount < limits.batchSize() && waited.compareTo(permitInterval) < 0
          && limiter.level(now) >= limits.burst() * PARTIAL_BATCH_LEVEL) {
        return permitInterval.minus(waited).dividedBy(4).plusMillis(1);
      }
      return limiter.tryAcquire(now, requests);
    };
    PortalQueue<LeadResult> queue = new PortalQueue<>(http.maxConcurrentPerPortal(), limits.batchSize(), gate,
        leads -> leads.size() == 1
            ? List.of(send(portal, state, leads.get(0)))
            : leads.get(0).uncertain()
            ? lookUpThenBatch(portal, state, limiter, pacer, leads)
            : sendBatch(portal, state, limiter, pacer, leads),
        (delay, task) -> vertx.setTimer(delay, id -> task.run()), java.time.Clock.systemUTC(),
        // Sent alone, a lead is a plain JSON crm.lead.add (looked up first if uncertain), which PHP never rewrites.
        lead -> encoder.aloneReason(ADD, lead.addRequestBody()) != null);
    return new Portal(portal, queue, state, limiter, pacer, new java.util.ArrayList<>());
  }

  /**
   * Several waiting leads in one {@code batch} request: one request against the portal's budget instead of up to
   * 50. Each command's own outcome goes to its lead. If the batch's answer is lost, every lead in it is looked up
   * (one crm.lead.list for all): those found are delivered, the others go again on their own. A whole batch is
   * never sent again.
   */
  private List<Future<LeadResult>> sendBatch(PortalConfig portal, PortalState state, PortalLimiter limiter,
                                             OperatingTimePacer pacer, List<LeadCommand> leads) {
    Instant now = Instant.now();
    if (state.paused()) {
      return leads.stream().map(lead -> probes.contains(lead.deliveryId())
          ? send(portal, state, lead)
          : Future.<LeadResult>failedFuture(new HeldException(state.nextProbeAt(now)))).toList();
    }
    Map<String, String> commands = new LinkedHashMap<>();
    Map<String, Future<LeadResult>> outcomes = new LinkedHashMap<>();
    for (LeadCommand lead : leads) {
      try {
        commands.put(lead.deliveryId(), encoder.command(ADD, lead.addRequestBody()));
      } catch (IllegalArgumentException e) {
        // A field the batch encoding cannot carry: that lead goes on its own, as plain JSON, later.
        outcomes.put(lead.deliveryId(), Future.failedFuture(new BitrixException(new BitrixError(
            ErrorClass.AMBIGUOUS, null, null, "It cannot be sent in a batch (" + e.getMessage()
            + "); it is sent on its own next time."))));
      }
    }
    Future<Map<String, Future<LeadResult>>> sent = commands.isEmpty() ? Future.succeededFuture(Map.of())
        : client.batch(portal, commands)
            .map(result -> perCommand(result, pacer))
            .recover(failure -> afterFailedBatch(portal, limiter, leads, commands.keySet(), failure));
    return leads.stream().map(lead -> outcomes.containsKey(lead.deliveryId())
        ? outcomes.get(lead.deliveryId())
        : sent.compose(byId -> byId.get(lead.deliveryId()))).toList();
  }

  /**
   * Leads whose earlier attempt may have created them: one crm.lead.list finds those that exist, and only the rest
   * are added, in one batch. If the look-up fails, none is added (each keeps its failure and is tried again).
   */
  private List<Future<LeadResult>> lookUpThenBatch(PortalConfig portal, PortalState state, PortalLimiter limiter,
                                                   OperatingTimePacer pacer, List<LeadCommand> leads) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return leads.stream().map(lead -> Future.<LeadResult>failedFuture(new HeldException(state.heldUntil())))
          .toList();
    }
    if (state.paused()) {
      return sendBatch(portal, state, limiter, pacer, leads);
    }
    List<String> ids = leads.stream().map(LeadCommand::deliveryId).toList();
    Future<Map<String, Long>> found = client.findLeads(portal, leads.get(0).originatorId(), ids);
    Future<Map<String, Future<LeadResult>>> outcomes = found.compose(existing -> {
      List<LeadCommand> missing = leads.stream().filter(lead -> !existing.containsKey(lead.deliveryId())).toList();
      List<Future<LeadResult>> added = missing.isEmpty() ? List.of()
          : missing.size() == 1 ? List.of(addOne(portal, missing.get(0)))
          : sendBatch(portal, state, limiter, pacer, missing);
      Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
      existing.forEach((id, lead) -> byId.put(id, Future.succeededFuture(new LeadResult(lead, true))));
      for (int i = 0; i < missing.size(); i++) {
        byId.put(missing.get(i).deliveryId(), added.get(i));
      }
      return Future.succeededFuture(byId);
    });
    return ids.stream().map(id -> outcomes.compose(byId -> byId.get(id))).toList();
  }

  private Future<LeadResult> addOne(PortalConfig portal, LeadCommand lead) {
    return client.addLead(portal, lead.addRequestBody()).map(id -> new LeadResult(id, false));
  }

  private Map<String, Future<LeadResult>> perCommand(BatchResult result, OperatingTimePacer pacer) {
    Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
    result.outcomes().forEach((id, outcome) -> {
      if (outcome.time() != null && outcome.time().operating() != null) {
        pacer.observe(ADD, outcome.time().operating(), outcome.time().operatingResetAt());
      }
      BitrixError error = outcome.leadAddError();
      byId.put(id, error == null
          ? Future.succeededFuture(new LeadResult(outcome.leadId(), false))
          : Future.failedFuture(new BitrixException(error)));
    });
    return byId;
  }

  private Future<Map<String, Future<LeadResult>>> afterFailedBatch(PortalConfig portal, PortalLimiter limiter,
                                                                   List<LeadCommand> leads, java.util.Set<String> ids,
                                                                   Throwable failure) {
    BitrixError error = errorOf(failure, portal).error();
    if (error == null || error.errorClass() == ErrorClass.REFUSED || error.errorClass() == ErrorClass.PORTAL_FAILURE) {
      // Nothing ran (refused), or nothing will (broken portal): every lead shares the batch's fate.
      return Future.succeededFuture(allFailWith(ids, failure));
    }
    limiter.record(Instant.now());
    return client.findLeads(portal, leads.get(0).originatorId(), ids).map(found -> {
      Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
      for (String id : ids) {
        Long lead = found.get(id);
        byId.put(id, lead != null
            ? Future.succeededFuture(new LeadResult(lead, true))
            : Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.AMBIGUOUS, error.httpStatus(),
                error.code(), "The batch failed (" + error.summary() + ") and this lead was not found; it is"
                + " sent again on its own."))));
      }
      return byId;
    }).otherwise(lookupFailed -> allFailWith(ids, failure));
  }

  private static Map<String, Future<LeadResult>> allFailWith(java.util.Set<String> ids, Throwable failure) {
    Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
    ids.forEach(id -> byId.put(id, Future.failedFuture(failure)));
    return byId;
  }

  private void observeTime(PortalConfig portal, String method, JsonObject time) {
    Portal known = portals.get(portal);
    Object operating = time.getValue("operating");
    if (known != null && operating instanceof Number seconds) {
      Object reset = time.getValue("operating_reset_at");
      known.pacer().observe(method, seconds.doubleValue(),
          reset instanceof Number at ? Instant.ofEpochSecond(at.longValue()) : null);
    }
  }

  private void deliver(Message<JsonObject> message) {
    LeadCommand command;
    try {
      command = LeadCommand.fromJson(message.body());
    } catch (RuntimeException e) {
      LOG.error("Dropped a malformed lead command: {}", e.toString());
      return;
    }
    if (!owned.add(command.deliveryId())) {
      return;
    }
    IntegrationConfig integration = integrations.get(command.integration());
    if (integration == null) {
      dead(command, null, "No integration named '" + command.integration() + "' is configured any more.",
          new Attempt(Instant.now(), "rejected", null, null, null, "unknown integration", command.fields()),
          "unknown_integration");
      return;
    }
    if (integration.dryRun()) {
      statuses.get(command.integration()).succeeded(Instant.now());
      Attempt attempt = new Attempt(Instant.now(), "dry-run", null, null, null, null, command.fields());
      record(deliveries.markDelivered(command.deliveryId(), null, attempt), command, () ->
          publishCreated(new LeadCreated(command.deliveryId(), command.integration(), null, true, elapsedMs(command),
              "dry-run", command.fields())));
      return;
    }
    Portal portal = portals.get(integration.portal().orElseThrow());
    Instant now = Instant.now();
    int queued = portal.queue().queued();
    if (queued >= maxQueuedPerPortal) {
      double leadsPerSecond = limits.batchSize() * limits.ratePerSecond();
      later(command, now.plusSeconds(Math.max(1, (long) Math.ceil(queued / leadsPerSecond))));
      return;
    }
    PortalState state = portal.state();
    if (state.paused()) {
      if (!state.tryStartProbe(now)) {
        // Waits in the store, not in memory: a portal may stay broken for days.
        later(command, state.nextProbeAt(now));
        return;
      }
      probes.add(command.deliveryId());
    }
    submit(portal, command);
  }

  private void submit(Portal portal, LeadCommand command) {
    portal.queue().submit(command).onComplete(ar -> {
      if (ar.succeeded()) {
        succeeded(portal, command, ar.result());
      } else {
        failed(portal, command, errorOf(ar.cause(), portal.config()));
      }
    });
  }

  /**
   * Bitrix24 refused a field value the guard could not foresee (a custom field, a portal-specific rule): the lead
   * goes once more at once, with every checked field moved to COMMENTS. Nothing was created (the portal validates
   * before it adds), so this is no risk of a duplicate. False when the fields hold nothing to move: a second field
   * rejection then kills the lead as before.
   */
  private boolean retryWithoutCheckedFields(Portal portal, LeadCommand command, BitrixError error, boolean probe) {
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
    submit(portal, new LeadCommand(command.deliveryId(), command.integration(), command.receivedAt(), fields,
        command.params(), command.attempts(), false, command.firstFailedAt()));
    return true;
  }

  /** One attempt, when the queue gives the command its turn: look up first if uncertain, then add. */
  private Future<LeadResult> send(PortalConfig portal, PortalState state, LeadCommand command) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return Future.failedFuture(new HeldException(state.heldUntil()));
    }
    if (state.paused() && !probes.contains(command.deliveryId())) {
      // Queued before the portal was paused: only the probe may go.
      return Future.failedFuture(new HeldException(state.nextProbeAt(now)));
    }
    Future<Long> existing = command.uncertain()
        ? client.findLead(portal, command.originatorId(), command.deliveryId())
        : Future.succeededFuture(null);
    return existing.compose(found -> found != null
        ? Future.succeededFuture(new LeadResult(found, true))
        : client.addLead(portal, command.addRequestBody()).map(id -> new LeadResult(id, false)));
  }

  private void succeeded(Portal portal, LeadCommand command, LeadResult lead) {
    Instant now = Instant.now();
    probes.remove(command.deliveryId());
    statuses.get(command.integration()).succeeded(now);
    progress.get(portal.config()).progressed(now);
    resume(portal, now);
    Attempt attempt = new Attempt(now, lead.found() ? "found" : "created", null, null, null, null, command.fields());
    record(deliveries.markDelivered(command.deliveryId(), lead.id(), attempt), command, () ->
        publishCreated(new LeadCreated(command.deliveryId(), command.integration(), lead.id(), false,
            elapsedMs(command), portal.config().masked(), null, lead.found())));
  }

  private void failed(Portal portal, LeadCommand command, Failure failure) {
    Instant now = Instant.now();
    PortalState state = portal.state();
    boolean probe = probes.remove(command.deliveryId());
    if (failure.heldUntil() != null) {
      // Its turn came while the portal was held or paused: nothing was sent.
      if (probe) {
        state.probeInconclusive();
      }
      later(command, failure.heldUntil());
      return;
    }
    BitrixError error = failure.error();
    if (retryWithoutCheckedFields(portal, command, error, probe)) {
      return;
    }
    statuses.get(command.integration()).failed(error, now);
    Attempt attempt = new Attempt(now, error.errorClass().eventCode(), error.errorClass().name(), error.httpStatus(),
        error.code(), error.description(), command.fields());
    if ("QUERY_LIMIT_EXCEEDED".equalsIgnoreCase(error.code())) {
      // The bucket is fuller than modelled (another application shares it): re-learn it as full.
      portal.limiter().refused(now);
    }
    Instant heldUntil = error.errorClass() == ErrorClass.REFUSED ? state.refused(error, now) : state.heldUntil();
    RetryPolicy.Decision decision = policy.decide(error, command.attempts(), command.firstFailedAt(), now, heldUntil);
    if (decision instanceof RetryPolicy.Retry retry) {
      if (probe) {
        state.probeInconclusive();
      }
      String next = "retry at " + retry.at();
      record(deliveries.retryLater(command.deliveryId(), retry, attempt), command, () -> publishFailure(command, error, error.reason(), next));
    } else if (decision instanceof RetryPolicy.Dead dead) {
      if (probe) {
        // The portal answered about this lead's data: it works. Resume; the lead itself is dead.
        resume(portal, now);
      }
      dead(command, error, dead.reason(), attempt, error.errorClass().eventCode());
    } else {
      // Requests already in flight when the portal broke fail too: only the first one and probes count.
      boolean newlyPaused = (!state.paused() || probe) && state.pause(error, now);
      Instant probeAt = state.nextProbeAt(now);
      record(deliveries.waitForPortal(command.deliveryId(), probeAt, attempt), command, () -> {
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

  private void resume(Portal portal, Instant now) {
    if (portal.state().succeeded()) {
      LOG.info("Bitrix24 portal {} works again: its waiting deliveries resume", portal.config().masked());
      deliveries.portalResumed(portal.users(), now).onFailure(e -> LOG.warn("Could not wake the waiting"
          + " deliveries of portal {}; they go at their scheduled time instead: {}", portal.config().masked(),
          e.toString()));
    }
  }

  private void dead(LeadCommand command, BitrixError error, String reason, Attempt attempt, String code) {
    record(deliveries.markDead(command.deliveryId(), reason, attempt), command, () ->
        vertx.eventBus().publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", command.deliveryId(),
            command.integration(), code, reason, error == null ? null : error.errorClass().name(),
            error == null ? null : error.httpStatus(), error == null ? null : error.code(), null,
            "dead: replay it with the admin API once fixed").toJson(), LOCAL));
  }

  /** Puts a delivery back in the store, due at {@code at}, with nothing counted or recorded. */
  private void later(LeadCommand command, Instant at) {
    record(deliveries.holdForPortal(command.deliveryId(), at), command, () -> {
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
      } else {
        LOG.error("Could not record the outcome of delivery {} in the store: {}", command.deliveryId(),
            ar.cause().toString());
      }
    });
  }

  private void renewLeases() {
    if (!owned.isEmpty()) {
      deliveries.stillWorking(List.copyOf(owned), Instant.now().plus(delivery.lease()))
          .onFailure(e -> LOG.warn("Could not renew delivery leases: {}", e.toString()));
    }
  }

  private void health(Message<JsonObject> message) {
    Instant now = Instant.now();
    store.backlog().otherwise(List.of()).onSuccess(backlogs -> {
      Map<String, Backlog> byIntegration = new LinkedHashMap<>();
      backlogs.forEach(b -> byIntegration.put(b.integration(), b));
      JsonObject report = new JsonObject();
      boolean degraded = false;
      for (Map.Entry<String, IntegrationStatus> entry : statuses.entrySet()) {
        String name = entry.getKey();
        PortalConfig config = integrations.get(name).portal().orElse(null);
        Portal portal = config == null ? null : portals.get(config);
        JsonObject json = entry.getValue().toJson(config, portal == null ? null : portal.queue());
        json.mergeIn(portal == null ? new JsonObject().put("state", "active") : portal.state().toJson(now));
        Backlog backlog = byIntegration.get(name);
        json.put("backlog", backlog == null ? 0 : backlog.pending());
        json.put("oldestPendingAgeSeconds", backlog == null || backlog.oldestPendingReceivedAt() == null ? null
            : Duration.between(backlog.oldestPendingReceivedAt(), now).toSeconds());
        json.put("dead", backlog == null ? 0 : backlog.dead());
        Optional<Instant> stalledSince = config == null ? Optional.empty() : progress.get(config).stalledSince(
            backlog == null ? null : backlog.oldestPendingReceivedAt(), now);
        json.put("lastProgressAt", config == null ? null : progress.get(config).lastProgressAt().toString());
        stalledSince.ifPresent(since -> json.put("stalledSince", since.toString()).put("stalled",
            "leads have been waiting since " + since + " and none was delivered"));
        degraded |= portal != null && portal.state().paused() || stalledSince.isPresent();
        report.put(name, json);
      }
      message.reply(new JsonObject().put("status", degraded ? "DEGRADED" : "UP").put("portals", report));
    });
  }

  /** Why an attempt did not create a lead: a Bitrix24 error, or the portal's hold (then nothing was sent). */
  private record Failure(BitrixError error, Instant heldUntil) {
  }

  /** The attempt never left: the portal was held after a refusal. */
  private static final class HeldException extends RuntimeException {
    private final Instant until;

    HeldException(Instant until) {
      super("held", null, false, false);
      this.until = until;
    }
  }

  private static Failure errorOf(Throwable failure, PortalConfig portal) {
    if (failure instanceof HeldException held) {
      return new Failure(null, held.until);
    }
    // The client only fails with BitrixException; anything else is a bug, still classified and redacted.
    return new Failure(failure instanceof BitrixException known
        ? known.error()
        : BitrixErrorClassifier.classify(failure).redact(portal.secretCode()), null);
  }

  private static long elapsedMs(LeadCommand command) {
    return Math.max(0, Duration.between(command.receivedAt(), Instant.now()).toMillis());
  }

  private void publishCreated(LeadCreated created) {
    vertx.eventBus().publish(Addresses.LEAD_CREATED, created.toJson(), LOCAL);
  }

  private void publishFailure(LeadCommand command, BitrixError error, String reason, String next) {
    vertx.eventBus().publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", command.deliveryId(),
        command.integration(), error.errorClass().eventCode(), reason, error.errorClass().name(), error.httpStatus(),
        error.code(), null, next).toJson(), LOCAL);
  }
}
