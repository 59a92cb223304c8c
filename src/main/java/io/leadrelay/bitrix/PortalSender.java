package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.config.RepeatConfig;
import io.leadrelay.delivery.PortalState;
import io.leadrelay.delivery.StallWatch;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Fence;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The sending loop of one Bitrix24 portal, shared by the integrations that deliver to it (Bitrix24 counts limits per
 * portal and webhook, whoever calls): its {@link PortalQueue} (order, concurrency, batches), the gate that spends
 * its request budget and operating time, the batch and look-up protocol, and its {@link PortalState} (holds after
 * refusals, pause after portal failures, probes). It says what became of each lead as a {@link SendOutcome}; what
 * that means for the delivery is decided elsewhere.
 */
final class PortalSender {

  private static final String ADD = "crm.lead.add";
  /** The batch call's own operating time is paced too (its outer {@code time} block). */
  private static final String BATCH = "batch";
  /**
   * Leads that join the queue further apart than this are not one broadcast; a broadcast with no lead for this long
   * has ended. Above the pauses ingest leaves between leads under load (a group commit, a GC), below a permit's
   * half second.
   */
  private static final Duration STREAM_GAP = Duration.ofMillis(150);
  /** Requests kept free at the top of the bucket for network and pause jitter (see {@link PortalLimiter}). */
  private static final double BUCKET_HEADROOM = 0.5;

  private final PortalConfig config;
  private final BitrixClient client;
  private final BitrixLimits limits;
  private final BatchEncoder encoder = new BatchEncoder();
  private final PortalState state;
  private final PortalLimiter limiter;
  private final OperatingTimePacer pacer;
  private final PortalQueue<LeadResult> queue;
  private final BatchPlanner planner;
  private final ArrivalStream arrivals = new ArrivalStream(STREAM_GAP);
  private final Clock clock;
  /** Leads in requests sent and not answered yet: their operating time is spent but not reported yet. */
  private int leadsInFlight;
  /** When the gate last took a permit: the request it let through is sent right after. */
  private Instant permittedAt = Instant.EPOCH;
  /**
   * The time the portal last said it spent on a request ({@code time.duration}), and how many such answers have come:
   * a request answered after one came since it was permitted tells the limiter how much of its round trip was the
   * portal's own work rather than transit.
   */
  private Duration lastAtPortal = Duration.ZERO;
  private long answersTimed;
  /** When a lead last got through, for /health to tell a stuck queue. */
  private final StallWatch progress;
  /** The integrations that deliver here: woken together when the portal works again. */
  private final List<String> users = new ArrayList<>();
  /** Deliveries let through a paused portal to see whether it works again. */
  private final Set<String> probes = new HashSet<>();
  private final int maxQueued;
  /** Owning the portal: a single node always is; on a shared store, between startOwning and standBy. */
  private boolean sending = true;
  private BooleanSupplier stillOwner = () -> true;
  private Fence fence;

  /** A lead that exists: created now, or found from an earlier attempt; under a repeat policy, what was done. */
  private record LeadResult(long id, boolean found, String action) {

    LeadResult(long id, boolean found) {
      this(id, found, found ? "found" : "created");
    }
  }

  /** The leads of integrations with a repeat policy: looked up by phone and e-mail, then acted on. */
  private final RepeatSender repeat;
  /** Deliveries of {@code target: deal} integrations: a deal with its contact instead of a lead. */
  private final DealSender deals;
  private final java.util.function.Predicate<String> makesDeals;

  PortalSender(PortalConfig config, BitrixClient client, BitrixHttpConfig http, BitrixLimits limits,
               DeliveryConfig delivery, PortalQueue.Timer timer, Clock clock, int maxQueued) {
    this(config, client, http, limits, delivery, timer, clock, maxQueued, integration -> RepeatConfig.NEW);
  }

  /** As above, for integrations whose {@code repeat} policies {@code policies} gives by name. */
  PortalSender(PortalConfig config, BitrixClient client, BitrixHttpConfig http, BitrixLimits limits,
               DeliveryConfig delivery, PortalQueue.Timer timer, Clock clock, int maxQueued,
               Function<String, RepeatConfig> policies) {
    this(config, client, http, limits, delivery, timer, clock, maxQueued, policies, integration -> false);
  }

  /** As above; the integrations {@code makesDeals} names deliver deals with contacts instead of leads. */
  PortalSender(PortalConfig config, BitrixClient client, BitrixHttpConfig http, BitrixLimits limits,
               DeliveryConfig delivery, PortalQueue.Timer timer, Clock clock, int maxQueued,
               Function<String, RepeatConfig> policies, java.util.function.Predicate<String> makesDeals) {
    this.makesDeals = makesDeals;
    this.config = config;
    this.client = client;
    this.limits = limits;
    this.maxQueued = maxQueued;
    // A refused request is retried after about a second (the bucket drains 2 per second), a broken portal is
    // probed after 15 retry bases (30 s by default); both grow up to their caps.
    Duration firstRefusalHold = delivery.retryBase().compareTo(Duration.ofSeconds(1)) < 0
        ? delivery.retryBase() : Duration.ofSeconds(1);
    this.state = new PortalState(firstRefusalHold, delivery.retryBase().multipliedBy(15), delivery.retryMax());
    this.limiter = new PortalLimiter(limits.burst(), limits.ratePerSecond(),
        limits.burst() > 1 ? BUCKET_HEADROOM : 0);
    this.pacer = new OperatingTimePacer(limits.operatingLimitSeconds(), 0.1);
    this.progress = new StallWatch(delivery.stallAfter(), clock.instant());
    this.clock = clock;
    this.planner = new BatchPlanner(limits.batchSize(), limits.burst(), limits.ratePerSecond());
    this.deals = new DealSender(config, client, () -> limiter.record(Instant.now()));
    this.repeat = new RepeatSender(config, client, policies, () -> limiter.record(Instant.now()), clock,
        this::upcoming);
    this.queue = new PortalQueue<>(http.maxConcurrentPerPortal(), limits.batchSize(), this::gate,
        leads -> !owning()
            ? leads.stream().map(lead -> Future.<LeadResult>failedFuture(new NotOwnerException())).toList()
            : deal(leads.get(0))
            ? inFlight(leads.size(), permittedAt, leads.stream().map(this::sendDeal).toList())
            : repeat.handles(leads.get(0))
            ? inFlight(leads.size(), permittedAt, sendRepeats(leads))
            : inFlight(leads.size(), permittedAt, leads.size() == 1
            ? List.of(send(leads.get(0)))
            : leads.get(0).uncertain()
            ? lookUpThenBatch(leads)
            : sendBatch(leads)),
        timer, clock,
        // Sent alone, a lead is a plain JSON crm.lead.add (looked up first if uncertain), which PHP never rewrites.
        // A deal goes on its own: its look-up and its add are requests of their own (DealSender).
        lead -> deal(lead) || !repeat.handles(lead) && encoder.aloneReason(ADD, lead.addRequestBody()) != null);
    // Repeat leads go apart from plain ones, and need a look-up request unless an earlier one covered them.
    queue.grouping(lead -> List.of(deal(lead), repeat.handles(lead), lead.uncertain()),
        lead -> deal(lead) ? DealSender.requests() : repeat.handles(lead) ? repeat.requestsFor(lead)
            : lead.uncertain() ? 2 : 1);
  }

  /**
   * This node now owns the portal, under {@code fence}; {@code stillOwner} is read right before every request.
   * The bucket is assumed full: the previous owner may have spent it a moment ago.
   */
  void startOwning(Fence fence, BooleanSupplier stillOwner, Instant now) {
    this.fence = fence;
    this.stillOwner = stillOwner;
    this.sending = true;
    limiter.refused(now);
  }

  /**
   * Another node owns the portal (or may, any moment): nothing more is sent from here, and the leads waiting in
   * memory are dropped (their rows stay in the store, for the owner). Requests already in flight finish, but their
   * outcomes are not recorded here.
   */
  void standBy() {
    sending = false;
    fence = null;
    queue.abandon(new NotOwnerException());
  }

  /** Whether this node may send for the portal now. */
  boolean owning() {
    return sending && stillOwner.getAsBoolean();
  }

  /** What this owner's outcome writes are conditioned on; null when nothing is fenced (a single node). */
  Fence fence() {
    return fence;
  }

  PortalConfig config() {
    return config;
  }

  PortalState state() {
    return state;
  }

  PortalQueue<?> queue() {
    return queue;
  }

  /** The request budget as the model sees it now: the bucket's level against its size, and operating time. */
  io.vertx.core.json.JsonObject budget(Instant now) {
    return new io.vertx.core.json.JsonObject()
        .put("bucketLevel", Math.round(limiter.level(now) * 10) / 10.0)
        .put("bucketSize", limits.burst())
        .put("requestsPerSecond", limits.ratePerSecond())
        .put("operatingSecondsUsed", Math.round(pacer.usedSeconds(now) * 10) / 10.0)
        .put("operatingSecondsLimit", pacer.limitSeconds());
  }

  StallWatch progress() {
    return progress;
  }

  List<String> users() {
    return users;
  }

  /**
   * Takes a lead into the queue, or says until when it must wait in the store instead: the queue is at its memory
   * cap (due about when the queue ahead will have drained), or the portal is paused and this lead is not its probe
   * (a portal may stay broken for days). Null: it was taken, and {@code sent} gets its outcome.
   */
  Instant admit(LeadCommand command, Instant now, java.util.function.Consumer<Future<SendOutcome>> sent) {
    int queued = queue.queued();
    if (queued >= maxQueued) {
      double leadsPerSecond = limits.batchSize() * limits.ratePerSecond();
      return now.plusSeconds(Math.max(1, (long) Math.ceil(queued / leadsPerSecond)));
    }
    if (state.paused()) {
      if (!state.tryStartProbe(now)) {
        return state.nextProbeAt(now);
      }
      probes.add(command.deliveryId());
    }
    sent.accept(submit(command));
    return null;
  }

  /**
   * Queues a lead (again: a resend after a field rejection) and tells its outcome. A lead that had to wait for its
   * subscriber's earlier webhook is queued again once that one is done.
   */
  Future<SendOutcome> submit(LeadCommand command) {
    arrivals.arrived(clock.instant());
    return queue.submit(command).transform(ar -> ar.failed() && ar.cause() instanceof RepeatSender.Deferred wait
        ? wait.after.transform(earlier -> submit(command))
        : Future.succeededFuture(ar.succeeded()
        ? new SendOutcome.Sent(ar.result().id(), ar.result().found(), ar.result().action())
        : outcomeOf(ar.cause())));
  }

  /** The leads waiting in the queue, for look-ups made ahead of their turn. */
  private List<LeadCommand> upcoming(int max) {
    return queue.upcoming(max);
  }

  private boolean deal(LeadCommand lead) {
    return makesDeals.test(lead.integration());
  }

  /** A deal delivery: held or paused as any lead, else through {@link DealSender}. */
  private Future<LeadResult> sendDeal(LeadCommand lead) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return Future.failedFuture(new HeldException(state.heldUntil()));
    }
    if (state.paused() && !probes.contains(lead.deliveryId())) {
      return Future.failedFuture(new HeldException(state.nextProbeAt(now)));
    }
    return deals.send(lead).map(done -> new LeadResult(done.dealId(), done.found()));
  }

  /** Leads of repeat-policy integrations: held or paused as any lead, else through {@link RepeatSender}. */
  private List<Future<LeadResult>> sendRepeats(List<LeadCommand> leads) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return leads.stream().map(lead -> Future.<LeadResult>failedFuture(new HeldException(state.heldUntil())))
          .toList();
    }
    List<LeadCommand> going = state.paused()
        ? leads.stream().filter(lead -> probes.contains(lead.deliveryId())).toList() : leads;
    List<Future<RepeatSender.Done>> sent = repeat.send(going);
    List<Future<LeadResult>> outcomes = new ArrayList<>();
    for (LeadCommand lead : leads) {
      int at = going.indexOf(lead);
      outcomes.add(at < 0 ? Future.failedFuture(new HeldException(state.nextProbeAt(now)))
          : sent.get(at).map(done -> new LeadResult(done.id(), done.found(), done.action())));
    }
    return outcomes;
  }

  /** True if the lead was this paused portal's probe (and is no longer). */
  boolean endProbe(String deliveryId) {
    return probes.remove(deliveryId);
  }

  /** Bitrix24 told how much operating time a call used: the pacer learns from it. */
  void observeTime(String method, JsonObject time) {
    if (time.getValue("duration") instanceof Number seconds && seconds.doubleValue() >= 0
        && Double.isFinite(seconds.doubleValue())) {
      lastAtPortal = Duration.ofNanos((long) (seconds.doubleValue() * 1e9));
      answersTimed++;
    }
    Object operating = time.getValue("operating");
    if (operating instanceof Number seconds) {
      Object reset = time.getValue("operating_reset_at");
      pacer.observe(method, seconds.doubleValue(),
          reset instanceof Number at ? Instant.ofEpochSecond(at.longValue()) : null);
    }
  }

  /**
   * The portal refused a call before executing it: until when it is held. A QUERY_LIMIT_EXCEEDED also means the
   * bucket is fuller than modelled (another application shares it), so it is re-learnt as full.
   */
  Instant refused(BitrixError error, Instant now) {
    if ("QUERY_LIMIT_EXCEEDED".equalsIgnoreCase(error.code())) {
      limiter.refused(now);
    }
    return error.errorClass() == ErrorClass.REFUSED ? state.refused(error, now) : state.heldUntil();
  }

  /**
   * Plans the next request at {@code now}: how many of the {@code ready} leads it carries, or how long to wait. A
   * hold after a refusal and the operating-time window come first: no permit is spent while they last. Then the
   * {@link BatchPlanner} decides whether a partial batch goes or waits to fill, and sizes the batch to the
   * operating time left; last, the bucket must have a permit.
   */
  private BatchPlan gate(Instant now, int requests, int ready, Duration waited) {
    Instant clear = pacer.clearAt(now, ADD, BATCH);
    if (state.heldUntil().isAfter(clear)) {
      clear = state.heldUntil();
    }
    if (clear.isAfter(now)) {
      return BatchPlan.waitFor(Duration.between(now, clear));
    }
    BatchPlanner.Arriving arriving = new BatchPlanner.Arriving(arrivals.growing(now), arrivals.untilEnded(now),
        arrivals.count(now), arrivals.perSecond(now));
    BatchPlan plan = planner.plan(ready, waited, arriving, limiter.level(now), pacer.room(ADD, now, leadsInFlight));
    if (plan instanceof BatchPlan.Wait) {
      return plan;
    }
    Duration permit = limiter.tryAcquire(now, requests);
    if (!permit.isZero()) {
      return BatchPlan.waitFor(permit);
    }
    permittedAt = now;
    return plan;
  }

  /**
   * Counts the leads of a request as in flight until every one of them has its outcome, and tells the limiter when
   * the request permitted at {@code permitted} was answered.
   */
  private List<Future<LeadResult>> inFlight(int leads, Instant permitted, List<Future<LeadResult>> outcomes) {
    leadsInFlight += leads;
    long timedBefore = answersTimed;
    Future.join(new ArrayList<>(outcomes)).onComplete(done -> {
      leadsInFlight -= leads;
      // Another request's answer may have been the one timed; the limiter's half request of headroom covers that.
      limiter.answered(permitted, clock.instant(), answersTimed > timedBefore ? lastAtPortal : Duration.ZERO);
    });
    return outcomes;
  }

  /**
   * Several waiting leads in one {@code batch} request: one request against the portal's budget instead of up to
   * 50. Each command's own outcome goes to its lead. If the batch's answer is lost, every lead in it is looked up
   * (one crm.lead.list for all): those found are delivered, the others go again on their own. A whole batch is
   * never sent again.
   */
  private List<Future<LeadResult>> sendBatch(List<LeadCommand> leads) {
    Instant now = Instant.now();
    if (state.paused()) {
      return leads.stream().map(lead -> probes.contains(lead.deliveryId())
          ? send(lead)
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
        : client.batch(config, commands)
            .map(this::perCommand)
            .recover(failure -> afterFailedBatch(leads, commands.keySet(), failure));
    return leads.stream().map(lead -> outcomes.containsKey(lead.deliveryId())
        ? outcomes.get(lead.deliveryId())
        : sent.compose(byId -> byId.get(lead.deliveryId()))).toList();
  }

  /**
   * Leads whose earlier attempt may have created them: one crm.lead.list finds those that exist, and only the rest
   * are added, in one batch. If the look-up fails, none is added (each keeps its failure and is tried again).
   */
  private List<Future<LeadResult>> lookUpThenBatch(List<LeadCommand> leads) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return leads.stream().map(lead -> Future.<LeadResult>failedFuture(new HeldException(state.heldUntil())))
          .toList();
    }
    if (state.paused()) {
      return sendBatch(leads);
    }
    List<String> ids = leads.stream().map(LeadCommand::deliveryId).toList();
    Future<Map<String, Long>> found = client.findLeads(config, leads.get(0).originatorId(), ids);
    Future<Map<String, Future<LeadResult>>> outcomes = found.compose(existing -> {
      List<LeadCommand> missing = leads.stream().filter(lead -> !existing.containsKey(lead.deliveryId())).toList();
      List<Future<LeadResult>> added = missing.isEmpty() ? List.of()
          : missing.size() == 1 ? List.of(addOne(missing.get(0)))
          : sendBatch(missing);
      Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
      existing.forEach((id, lead) -> byId.put(id, Future.succeededFuture(new LeadResult(lead, true))));
      for (int i = 0; i < missing.size(); i++) {
        byId.put(missing.get(i).deliveryId(), added.get(i));
      }
      return Future.succeededFuture(byId);
    });
    return ids.stream().map(id -> outcomes.compose(byId -> byId.get(id))).toList();
  }

  private Future<LeadResult> addOne(LeadCommand lead) {
    return client.addLead(config, lead.addRequestBody()).map(id -> new LeadResult(id, false));
  }

  private Map<String, Future<LeadResult>> perCommand(BatchResult result) {
    Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
    // The commands ran one after the other, each answer saying the usage so far: the step is one lead's cost.
    Double[] previous = {null};
    result.outcomes().forEach((id, outcome) -> {
      Double operating = outcome.time() == null ? null : outcome.time().operating();
      if (operating != null) {
        pacer.observe(ADD, operating, outcome.time().operatingResetAt());
        if (previous[0] != null) {
          pacer.observeLeadCost(operating - previous[0]);
        }
      }
      previous[0] = operating;
      BitrixError error = outcome.leadAddError();
      byId.put(id, error == null
          ? Future.succeededFuture(new LeadResult(outcome.leadId(), false))
          : Future.failedFuture(new BitrixException(error)));
    });
    return byId;
  }

  private Future<Map<String, Future<LeadResult>>> afterFailedBatch(List<LeadCommand> leads, Set<String> ids,
                                                                   Throwable failure) {
    if (!(outcomeOf(failure) instanceof SendOutcome.Failed failed)
        || failed.error().errorClass() == ErrorClass.REFUSED
        || failed.error().errorClass() == ErrorClass.PORTAL_FAILURE) {
      // Nothing ran (refused), or nothing will (broken portal): every lead shares the batch's fate.
      return Future.succeededFuture(allFailWith(ids, failure));
    }
    BitrixError error = failed.error();
    limiter.record(Instant.now());
    return client.findLeads(config, leads.get(0).originatorId(), ids).map(found -> {
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

  private static Map<String, Future<LeadResult>> allFailWith(Set<String> ids, Throwable failure) {
    Map<String, Future<LeadResult>> byId = new LinkedHashMap<>();
    ids.forEach(id -> byId.put(id, Future.failedFuture(failure)));
    return byId;
  }

  /** One attempt, when the queue gives the command its turn: look up first if uncertain, then add. */
  private Future<LeadResult> send(LeadCommand command) {
    Instant now = Instant.now();
    if (state.held(now)) {
      return Future.failedFuture(new HeldException(state.heldUntil()));
    }
    if (state.paused() && !probes.contains(command.deliveryId())) {
      // Queued before the portal was paused: only the probe may go.
      return Future.failedFuture(new HeldException(state.nextProbeAt(now)));
    }
    Future<Long> existing = command.uncertain()
        ? client.findLead(config, command.originatorId(), command.deliveryId())
        : Future.succeededFuture(null);
    return existing.compose(found -> found != null
        ? Future.succeededFuture(new LeadResult(found, true))
        : addOne(command));
  }

  private SendOutcome outcomeOf(Throwable failure) {
    if (failure instanceof HeldException held) {
      return new SendOutcome.Held(held.until);
    }
    if (failure instanceof NotOwnerException) {
      return new SendOutcome.NotOwner();
    }
    // The client only fails with BitrixException; anything else is a bug, still classified and redacted.
    return new SendOutcome.Failed(failure instanceof BitrixException known
        ? known.error()
        : BitrixErrorClassifier.classify(failure).redact(config.secretCode()));
  }

  /** The attempt never left: the portal was held after a refusal, or paused. */
  private static final class HeldException extends RuntimeException {
    private final Instant until;

    HeldException(Instant until) {
      super("held", null, false, false);
      this.until = until;
    }
  }

  /** The lead was not sent: this node does not own the portal (any more). */
  private static final class NotOwnerException extends RuntimeException {
    NotOwnerException() {
      super("not the owner", null, false, false);
    }
  }
}
