package io.leadrelay.bitrix;

import io.leadrelay.config.PortalConfig;
import io.leadrelay.config.RepeatConfig;
import io.leadrelay.crm.DuplicateFinder;
import io.leadrelay.crm.DuplicateFinder.Communication;
import io.leadrelay.crm.RepeatComment;
import io.leadrelay.crm.RepeatDecision;
import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Sends the leads of integrations with a {@code repeat} policy other than {@code new}, for one portal's sending
 * loop: it finds who is already in the CRM and then does what the policy says, in as few requests as it can.
 * <ol>
 *   <li>Leads whose earlier attempt may have landed are looked up by ORIGIN_ID first (as every lead is).</li>
 *   <li>One {@code batch} of {@code crm.duplicate.findbycomm} calls, 20 phones or e-mails each, for the whole group
 *   (all record kinds in one call).</li>
 *   <li>Only if something matched: one {@code batch} listing the matched leads and contacts with their phones,
 *   e-mails and dates, since the search says neither which value matched nor how old the record is.</li>
 *   <li>Only for leads whose earlier attempt may have landed and that now go to an existing record: one
 *   {@code batch} reading that record's newest comments for this delivery's marker, so a comment is never added
 *   twice.</li>
 *   <li>One {@code batch} of the actions: crm.lead.add, crm.lead.update, crm.timeline.comment.add.</li>
 * </ol>
 * Two webhooks of one subscriber must not both create a lead: while a lead with a given phone or e-mail is being
 * sent, a later one with any of them waits for it ({@link Deferred}) and is then sent again, when the first one's
 * lead can be found. The portal's sending loop runs on its owner node only, so this ordering holds across a
 * cluster too. Leads this loop created lately are remembered too, for a portal whose duplicate index lags.
 * Not thread-safe: the portal's event loop only.
 */
final class RepeatSender {

  /** A lead that waits for an earlier lead of the same subscriber, then goes again. */
  static final class Deferred extends RuntimeException {
    final Future<?> after;

    Deferred(Future<?> after) {
      super("waits for the same subscriber's earlier webhook", null, false, false);
      this.after = after;
    }
  }

  /** What a lead came to: the lead (or contact) the webhook went to, and how. */
  record Done(long id, boolean found, String action) {
  }

  /**
   * How many leads waiting behind a group are looked up with it: their findbycomm calls fill the rest of the look-up
   * batch (400 leads with a phone and an e-mail each take 40 of its 50 commands), so a broadcast needs one look-up
   * request per eight batches of actions rather than one per batch.
   */
  private static final int LOOK_AHEAD = 400;
  /** How long a look-up made ahead stays good; a lead created since by this loop is remembered apart. */
  private static final Duration LOOKED_UP_FOR = Duration.ofSeconds(60);

  /** How long a created lead is remembered for its subscriber's next webhook. */
  private static final Duration REMEMBERED = Duration.ofMinutes(10);
  private static final int REMEMBERED_MAX = 10_000;
  private static final int MAX_COMMANDS = BatchEncoder.MAX_COMMANDS;
  private static final int LIST_PAGE = 50;

  private final PortalConfig config;
  private final BitrixClient client;
  private final Function<String, RepeatConfig> policies;
  /** Counts a request beyond those the gate permitted for the group (see {@link PortalLimiter#record}). */
  private final Runnable extraRequest;
  private final Clock clock;
  private final BatchEncoder encoder = new BatchEncoder();
  /** Subscriber key (phone or e-mail) → the outcome of the lead with it that is being sent. */
  private final Map<String, Future<Done>> busy = new LinkedHashMap<>();
  /** Subscriber key → a lead this loop created lately, as it sent it (with its ID), and when. */
  private final LinkedHashMap<String, Remembered> recent = new LinkedHashMap<>(16, 0.75f, false);
  /** Leads looked up ahead of their turn: deliveryId → the records that share their phone or e-mail. */
  private final LinkedHashMap<String, LookedUp> ahead = new LinkedHashMap<>();
  private final java.util.function.IntFunction<List<LeadCommand>> upcoming;

  /** A look-up made (or under way) ahead of a lead's turn, and when it was started. */
  private record LookedUp(Future<Found> found, Instant at) {
  }

  private record Remembered(JsonObject lead, Instant at) {
  }

  RepeatSender(PortalConfig config, BitrixClient client, Function<String, RepeatConfig> policies,
               Runnable extraRequest, Clock clock, java.util.function.IntFunction<List<LeadCommand>> upcoming) {
    this.upcoming = upcoming;
    this.config = config;
    this.client = client;
    this.policies = policies;
    this.extraRequest = extraRequest;
    this.clock = clock;
  }

  /** Whether the lead's integration looks its subscriber up before creating anything. */
  boolean handles(LeadCommand lead) {
    RepeatConfig repeat = policies.apply(lead.integration());
    return repeat != null && repeat.looksUp();
  }

  /**
   * The requests a group headed by {@code lead} needs at most, for the gate: the actions, a look-up unless one made
   * ahead covers it, and the ORIGIN_ID look-up when its earlier attempt may have landed. A listing of matches is
   * counted when it happens.
   */
  int requestsFor(LeadCommand lead) {
    return 1 + (lookedUp(lead) == null ? 1 : 0) + (lead.uncertain() ? 1 : 0);
  }

  /** The look-up made ahead for the lead, done or under way; null if none is good (none, too old, or failed). */
  private Future<Found> lookedUp(LeadCommand lead) {
    LookedUp done = lead.uncertain() ? null : ahead.get(lead.deliveryId());
    return done == null || done.at().plus(LOOKED_UP_FOR).isBefore(clock.instant()) || done.found().failed() ? null
        : done.found();
  }

  /** One outcome per lead, in order; a lead that must wait for its subscriber's earlier one fails with Deferred. */
  List<Future<Done>> send(List<LeadCommand> leads) {
    List<Future<Done>> outcomes = new ArrayList<>();
    List<LeadCommand> going = new ArrayList<>();
    Map<String, Promise<Done>> promises = new LinkedHashMap<>();
    for (LeadCommand lead : leads) {
      Set<String> keys = keys(lead.fields());
      Future<Done> earlier = keys.stream().map(busy::get).filter(f -> f != null).findFirst().orElse(null);
      if (earlier != null) {
        outcomes.add(Future.failedFuture(new Deferred(earlier)));
        continue;
      }
      Promise<Done> promise = Promise.promise();
      Future<Done> outcome = promise.future();
      keys.forEach(key -> busy.put(key, outcome));
      outcome.onComplete(done -> keys.forEach(key -> busy.remove(key, outcome)));
      promises.put(lead.deliveryId(), promise);
      going.add(lead);
      outcomes.add(outcome);
    }
    if (!going.isEmpty()) {
      run(going).onComplete(all -> {
        for (LeadCommand lead : going) {
          Promise<Done> promise = promises.get(lead.deliveryId());
          if (all.failed()) {
            promise.tryFail(all.cause());
          } else {
            all.result().get(lead.deliveryId()).onComplete(promise);
          }
        }
      });
    }
    return outcomes;
  }

  /** The whole protocol for leads that do not wait for each other: deliveryId → outcome. */
  private Future<Map<String, Future<Done>>> run(List<LeadCommand> leads) {
    Map<String, Future<Done>> byId = new LinkedHashMap<>();
    return byOrigin(leads).compose(found -> {
      List<LeadCommand> rest = new ArrayList<>();
      for (LeadCommand lead : leads) {
        Long id = found.get(lead.deliveryId());
        if (id != null) {
          byId.put(lead.deliveryId(), Future.succeededFuture(new Done(id, true, "found")));
        } else {
          rest.add(lead);
        }
      }
      if (rest.isEmpty()) {
        return Future.succeededFuture(byId);
      }
      return lookUp(rest)
          .compose(lookedUp -> decide(rest, lookedUp))
          .compose(this::withoutDoneComments)
          .map(planned -> {
            byId.putAll(act(planned));
            return byId;
          });
    });
  }

  /** The leads earlier attempts created, by ORIGINATOR_ID/ORIGIN_ID: one crm.lead.list per originator. */
  private Future<Map<String, Long>> byOrigin(List<LeadCommand> leads) {
    Map<String, List<String>> uncertain = new LinkedHashMap<>();
    for (LeadCommand lead : leads) {
      if (lead.uncertain()) {
        uncertain.computeIfAbsent(lead.originatorId(), o -> new ArrayList<>()).add(lead.deliveryId());
      }
    }
    Future<Map<String, Long>> all = Future.succeededFuture(new LinkedHashMap<>());
    boolean first = true;
    for (Map.Entry<String, List<String>> group : uncertain.entrySet()) {
      boolean counted = first;
      first = false;
      all = all.compose(found -> {
        if (!counted) {
          extraRequest.run();
        }
        return client.findLeads(config, group.getKey(), group.getValue()).map(more -> {
          found.putAll(more);
          return found;
        });
      });
    }
    return all;
  }

  /** The found records: leads and contacts, as listed (with PHONE, EMAIL and dates). */
  private record Found(List<JsonObject> leads, List<JsonObject> contacts) {
  }

  /**
   * The records that share a phone or e-mail with each lead: from a look-up made ahead, or from one made now for
   * the leads not covered, together with the repeat leads waiting behind them.
   */
  private Future<Map<String, Found>> lookUp(List<LeadCommand> leads) {
    Map<String, Future<Found>> byId = new LinkedHashMap<>();
    List<LeadCommand> missing = new ArrayList<>();
    for (LeadCommand lead : leads) {
      Future<Found> found = lookedUp(lead);
      ahead.remove(lead.deliveryId());
      if (found != null) {
        // A look-up ahead that fails is made again for this lead alone (a request the gate did not count).
        byId.put(lead.deliveryId(), found.recover(failure -> {
          extraRequest.run();
          return matches(List.of(lead)).map(all -> own(all, lead));
        }));
      } else {
        missing.add(lead);
      }
    }
    if (!missing.isEmpty()) {
      List<LeadCommand> asked = new ArrayList<>(missing);
      Set<String> seen = new LinkedHashSet<>();
      missing.forEach(lead -> seen.add(lead.deliveryId()));
      for (LeadCommand next : upcoming.apply(LOOK_AHEAD)) {
        // Leads already covered by a look-up (even one still under way, e.g. for the request in flight beside this
        // one) are not asked about again.
        if (handles(next) && !next.uncertain() && lookedUp(next) == null && seen.add(next.deliveryId())) {
          asked.add(next);
        }
      }
      Future<Found> all = matches(asked);
      Instant now = clock.instant();
      for (LeadCommand lead : asked) {
        Future<Found> own = all.map(found -> own(found, lead));
        if (seen.contains(lead.deliveryId()) && missing.contains(lead)) {
          byId.put(lead.deliveryId(), own);
        } else {
          ahead.put(lead.deliveryId(), new LookedUp(own, now));
        }
      }
      // Leads looked up ahead and then sent by another path (or given up) must not pile up.
      ahead.values().removeIf(done -> done.at().plus(LOOKED_UP_FOR).isBefore(now));
    }
    return Future.all(new ArrayList<>(byId.values())).map(done -> {
      Map<String, Found> found = new LinkedHashMap<>();
      byId.forEach((id, future) -> found.put(id, future.result()));
      return found;
    });
  }

  /** Of the records found for a group, those that share a phone or e-mail with this lead. */
  private static Found own(Found found, LeadCommand lead) {
    return new Found(
        found.leads().stream().filter(r -> DuplicateFinder.shareCommunication(lead.fields(), r)).toList(),
        found.contacts().stream().filter(r -> DuplicateFinder.shareCommunication(lead.fields(), r)).toList());
  }

  /** findbycomm for every phone and e-mail of the group, then the matched records listed. */
  private Future<Found> matches(List<LeadCommand> leads) {
    Set<String> phones = new LinkedHashSet<>();
    Set<String> emails = new LinkedHashSet<>();
    for (LeadCommand lead : leads) {
      phones.addAll(DuplicateFinder.values(lead.fields(), Communication.PHONE));
      emails.addAll(DuplicateFinder.values(lead.fields(), Communication.EMAIL));
    }
    Map<String, String> commands = new LinkedHashMap<>();
    Map<String, JsonObject> alone = new LinkedHashMap<>();
    int n = 0;
    for (DuplicateFinder.Lookup lookup : concat(DuplicateFinder.lookups(Communication.PHONE, phones, null),
        DuplicateFinder.lookups(Communication.EMAIL, emails, null))) {
      // A phone or e-mail like "$result[find0]" would be rewritten by Bitrix24 inside a batch and searched for as
      // something else: the subscriber would not be found and would get a second lead. Such a search goes alone.
      if (encoder.aloneReason(DuplicateFinder.METHOD, lookup.params()) == null) {
        commands.put("find" + n++, encoder.command(DuplicateFinder.METHOD, lookup.params()));
      } else {
        alone.put("find" + n++, lookup.params());
      }
    }
    if (commands.isEmpty() && alone.isEmpty()) {
      return Future.succeededFuture(new Found(List.of(), List.of()));
    }
    Future<Map<String, BatchOutcome>> batched = commands.isEmpty() ? Future.succeededFuture(new LinkedHashMap<>())
        : batches(commands, false);
    return batched.compose(outcomes -> searchAlone(alone, outcomes, !commands.isEmpty())).compose(results -> {
      DuplicateFinder.Matches all = DuplicateFinder.Matches.NONE;
      for (BatchOutcome outcome : results.values()) {
        if (!outcome.succeeded()) {
          return Future.failedFuture(new BitrixException(outcome.error()));
        }
        try {
          all = all.plus(DuplicateFinder.parse(outcome.result()));
        } catch (IllegalArgumentException e) {
          return Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.AMBIGUOUS, null, null,
              e.getMessage())));
        }
      }
      return all.leads().isEmpty() && all.contacts().isEmpty()
          ? Future.succeededFuture(new Found(List.of(), List.of()))
          : list(all.leads(), all.contacts());
    });
  }

  /**
   * The searches that cannot be batch commands, each its own plain JSON request, one after the other, added to
   * {@code outcomes}. {@code counted}: a request went before them (the first one was permitted by the gate).
   */
  private Future<Map<String, BatchOutcome>> searchAlone(Map<String, JsonObject> alone,
                                                        Map<String, BatchOutcome> outcomes, boolean counted) {
    Future<Map<String, BatchOutcome>> all = Future.succeededFuture(outcomes);
    boolean extra = counted;
    for (Map.Entry<String, JsonObject> search : alone.entrySet()) {
      boolean thisExtra = extra;
      extra = true;
      all = all.compose(done -> {
        if (thisExtra) {
          extraRequest.run();
        }
        return client.call(config, DuplicateFinder.METHOD, search.getValue()).map(answer -> {
          done.put(search.getKey(), new BatchOutcome(search.getKey(), answer.getValue("result"), null, null));
          return done;
        });
      });
    }
    return all;
  }

  /** One batch listing the matched leads and contacts, 50 ids per command (one page each). */
  private Future<Found> list(List<Long> leadIds, List<Long> contactIds) {
    Map<String, String> commands = new LinkedHashMap<>();
    listCommands(commands, "leads", "crm.lead.list", leadIds, new JsonArray().add("*").add("PHONE").add("EMAIL"));
    listCommands(commands, "contacts", "crm.contact.list", contactIds,
        new JsonArray().add("ID").add("DATE_CREATE").add("DATE_MODIFY").add("PHONE").add("EMAIL"));
    return batches(commands, true).compose(results -> {
      List<JsonObject> leads = new ArrayList<>();
      List<JsonObject> contacts = new ArrayList<>();
      for (BatchOutcome outcome : results.values()) {
        if (!outcome.succeeded()) {
          return Future.failedFuture(new BitrixException(outcome.error()));
        }
        List<JsonObject> into = outcome.name().startsWith("leads") ? leads : contacts;
        if (outcome.result() instanceof JsonArray rows) {
          rows.forEach(row -> {
            if (row instanceof JsonObject record) {
              into.add(record);
            }
          });
        } else {
          return Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.AMBIGUOUS, null, null,
              "a CRM list answered without a list of records")));
        }
      }
      return Future.succeededFuture(new Found(leads, contacts));
    });
  }

  private void listCommands(Map<String, String> commands, String name, String method, List<Long> ids,
                            JsonArray select) {
    for (int from = 0, n = 0; from < ids.size(); from += LIST_PAGE, n++) {
      JsonObject params = new JsonObject()
          .put("filter", new JsonObject().put("@ID", new JsonArray(ids.subList(from,
              Math.min(ids.size(), from + LIST_PAGE)))))
          .put("select", select)
          .put("order", new JsonObject().put("ID", "DESC"));
      commands.put(name + n, encoder.command(method, params));
    }
  }

  /** A lead, what it becomes, and whether its comment is already there (found by its marker). */
  private record Planned(LeadCommand lead, RepeatDecision.Action action, boolean commented) {
  }

  private Future<List<Planned>> decide(List<LeadCommand> leads, Map<String, Found> foundById) {
    Instant now = clock.instant();
    List<Planned> planned = new ArrayList<>();
    for (LeadCommand lead : leads) {
      Found found = foundById.getOrDefault(lead.deliveryId(), new Found(List.of(), List.of()));
      List<JsonObject> knownLeads = new ArrayList<>(found.leads());
      Set<Object> listed = new LinkedHashSet<>();
      found.leads().forEach(l -> listed.add(String.valueOf(l.getValue("ID"))));
      for (String key : keys(lead.fields())) {
        Remembered remembered = recent.get(key);
        if (remembered != null && remembered.at().plus(REMEMBERED).isAfter(now)
            && listed.add(String.valueOf(remembered.lead().getValue("ID")))) {
          knownLeads.add(remembered.lead());
        }
      }
      RepeatConfig repeat = policies.apply(lead.integration());
      planned.add(new Planned(lead, RepeatDecision.decide(lead.deliveryId(), lead.fields(),
          repeat == null ? RepeatConfig.NEW : repeat, now, knownLeads, found.contacts()), false));
    }
    return Future.succeededFuture(planned);
  }

  /**
   * For leads whose earlier attempt may have landed and that now comment on a record: reads that record's 50 newest
   * comments (one batch for all) and marks the lead commented when one carries its marker.
   */
  private Future<List<Planned>> withoutDoneComments(List<Planned> planned) {
    Map<String, String> commands = new LinkedHashMap<>();
    for (Planned plan : planned) {
      if (plan.lead().uncertain() && target(plan.action()) != null) {
        Object[] target = target(plan.action());
        commands.put(plan.lead().deliveryId(), encoder.command("crm.timeline.comment.list", new JsonObject()
            .put("filter", new JsonObject().put("ENTITY_ID", target[1]).put("ENTITY_TYPE", target[0]))
            .put("select", new JsonArray().add("ID").add("COMMENT"))
            .put("order", new JsonObject().put("ID", "DESC"))));
      }
    }
    if (commands.isEmpty()) {
      return Future.succeededFuture(planned);
    }
    return batches(commands, true).compose(results -> {
      List<Planned> checked = new ArrayList<>();
      for (Planned plan : planned) {
        BatchOutcome outcome = results.get(plan.lead().deliveryId());
        if (outcome == null) {
          checked.add(plan);
        } else if (!outcome.succeeded()) {
          return Future.failedFuture(new BitrixException(outcome.error()));
        } else {
          boolean commented = outcome.result() instanceof JsonArray comments && comments.stream()
              .anyMatch(c -> c instanceof JsonObject comment
                  && RepeatComment.isFor(plan.lead().deliveryId(), comment.getValue("COMMENT")));
          checked.add(new Planned(plan.lead(), plan.action(), commented));
        }
      }
      return Future.succeededFuture(checked);
    });
  }

  /** The record a comment goes to: {entity type, id}, or null for a new lead. */
  private static Object[] target(RepeatDecision.Action action) {
    if (action instanceof RepeatDecision.Comment comment) {
      return new Object[] {comment.entityType(), comment.entityId()};
    }
    if (action instanceof RepeatDecision.Update update) {
      return new Object[] {"lead", update.leadId()};
    }
    return null;
  }

  /**
   * The actions, in one batch (a call that a batch would change goes alone, as plain JSON): deliveryId → outcome.
   * A lost answer leaves every lead in it with an unknown outcome; its next attempt looks up first.
   */
  private Map<String, Future<Done>> act(List<Planned> planned) {
    Map<String, String> commands = new LinkedHashMap<>();
    Map<String, Future<JsonObject>> alone = new LinkedHashMap<>();
    for (Planned plan : planned) {
      String id = plan.lead().deliveryId();
      for (Map.Entry<String, JsonObject> call : calls(plan).entrySet()) {
        String name = call.getKey().isEmpty() ? id : id + "." + call.getKey();
        String method = method(call.getKey());
        if (encoder.aloneReason(method, call.getValue()) == null) {
          commands.put(name, encoder.command(method, call.getValue()));
        } else {
          alone.put(name, Future.succeededFuture(call.getValue()));
        }
      }
    }
    Future<Map<String, BatchOutcome>> sent = commands.isEmpty() ? Future.succeededFuture(Map.of())
        : batches(commands, false);
    Map<String, Future<Done>> byId = new LinkedHashMap<>();
    for (Planned plan : planned) {
      byId.put(plan.lead().deliveryId(), sent.compose(results -> outcome(plan, results, alone)));
    }
    return byId;
  }

  /** The calls for one lead: "" the add, "update" the update, "comment" the comment (none if already there). */
  private static Map<String, JsonObject> calls(Planned plan) {
    Map<String, JsonObject> calls = new LinkedHashMap<>();
    RepeatDecision.Action action = plan.action();
    if (action instanceof RepeatDecision.Create create) {
      calls.put("", new JsonObject().put("fields", create.fields()).put("params", plan.lead().params()));
    } else if (action instanceof RepeatDecision.Update update && !update.fill().isEmpty()) {
      // Only empty fields are filled: doing it again after a lost answer changes nothing.
      calls.put("update", new JsonObject().put("id", update.leadId()).put("fields", update.fill()));
    }
    Object[] target = target(action);
    if (target != null && !plan.commented()) {
      String text = action instanceof RepeatDecision.Comment c ? c.text() : ((RepeatDecision.Update) action).text();
      calls.put("comment", new JsonObject().put("fields", new JsonObject()
          .put("ENTITY_ID", target[1]).put("ENTITY_TYPE", target[0]).put("COMMENT", text)));
    }
    return calls;
  }

  private static String method(String call) {
    return switch (call) {
      case "" -> "crm.lead.add";
      case "update" -> "crm.lead.update";
      default -> "crm.timeline.comment.add";
    };
  }

  private Future<Done> outcome(Planned plan, Map<String, BatchOutcome> results, Map<String, Future<JsonObject>> alone) {
    String id = plan.lead().deliveryId();
    RepeatDecision.Action action = plan.action();
    if (action instanceof RepeatDecision.Create create) {
      return result(id, "", results, alone).compose(outcome -> {
        BitrixError error = outcome.leadAddError();
        if (error != null) {
          return Future.failedFuture(new BitrixException(error));
        }
        remember(create.fields(), outcome.leadId());
        return Future.succeededFuture(new Done(outcome.leadId(), false,
            create.contactId() == null ? "created" : "linked"));
      });
    }
    Object[] target = target(action);
    long entityId = (Long) target[1];
    String how = action instanceof RepeatDecision.Update ? "updated"
        : "contact".equals(target[0]) ? "commented-contact" : "commented";
    Future<Void> updated = action instanceof RepeatDecision.Update update && !update.fill().isEmpty()
        ? result(id, "update", results, alone).compose(RepeatSender::succeeded) : Future.succeededFuture();
    if (plan.commented()) {
      return updated.map(v -> new Done(entityId, true, how));
    }
    return updated.compose(v -> result(id, "comment", results, alone)).compose(outcome -> {
      if (!outcome.succeeded()) {
        return Future.failedFuture(new BitrixException(outcome.error()));
      }
      if (BatchOutcome.positiveId(outcome.result()) == null) {
        return Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.AMBIGUOUS, null, null,
            "crm.timeline.comment.add answered without a comment id: " + outcome.result())));
      }
      return Future.succeededFuture(new Done(entityId, false, how));
    });
  }

  private static Future<Void> succeeded(BatchOutcome outcome) {
    return outcome.succeeded() ? Future.succeededFuture() : Future.failedFuture(new BitrixException(outcome.error()));
  }

  /** A call's outcome: from the batch, or from its own request if it had to go alone. */
  private Future<BatchOutcome> result(String id, String call, Map<String, BatchOutcome> results,
                                      Map<String, Future<JsonObject>> alone) {
    String name = call.isEmpty() ? id : id + "." + call;
    BatchOutcome outcome = results.get(name);
    if (outcome != null) {
      return Future.succeededFuture(outcome);
    }
    Future<JsonObject> params = alone.get(name);
    if (params == null) {
      return Future.failedFuture(new IllegalStateException("no call " + name));
    }
    extraRequest.run();
    return params.compose(p -> client.call(config, method(call), p))
        .map(answer -> new BatchOutcome(name, answer.getValue("result"), null, null));
  }

  /** Sends commands in batches of 50, one after the other; the first request was permitted by the gate. */
  private Future<Map<String, BatchOutcome>> batches(Map<String, String> commands, boolean extra) {
    List<Map<String, String>> chunks = new ArrayList<>();
    Map<String, String> chunk = new LinkedHashMap<>();
    for (Map.Entry<String, String> command : commands.entrySet()) {
      if (chunk.size() == MAX_COMMANDS) {
        chunks.add(chunk);
        chunk = new LinkedHashMap<>();
      }
      chunk.put(command.getKey(), command.getValue());
    }
    chunks.add(chunk);
    Future<Map<String, BatchOutcome>> all = Future.succeededFuture(new LinkedHashMap<>());
    for (int i = 0; i < chunks.size(); i++) {
      Map<String, String> part = chunks.get(i);
      boolean counted = extra || i > 0;
      all = all.compose(outcomes -> {
        if (counted) {
          extraRequest.run();
        }
        return client.batch(config, part).map(result -> {
          outcomes.putAll(result.outcomes());
          return outcomes;
        });
      });
    }
    return all;
  }

  /** Keeps a created lead for its subscriber's next webhook, in case the portal's duplicate search lags. */
  private void remember(JsonObject fields, long leadId) {
    Instant now = clock.instant();
    JsonObject lead = fields.copy().put("ID", String.valueOf(leadId));
    for (String key : keys(fields)) {
      recent.remove(key);
      recent.put(key, new Remembered(lead, now));
    }
    Iterator<Map.Entry<String, Remembered>> oldest = recent.entrySet().iterator();
    while (oldest.hasNext()) {
      Map.Entry<String, Remembered> entry = oldest.next();
      if (recent.size() <= REMEMBERED_MAX && entry.getValue().at().plus(REMEMBERED).isAfter(now)) {
        break;
      }
      oldest.remove();
    }
  }

  /** A lead's subscriber keys: its phones and (lower-cased) e-mails, as searched. */
  static Set<String> keys(JsonObject fields) {
    Set<String> keys = new LinkedHashSet<>();
    for (Communication type : Communication.values()) {
      for (String value : DuplicateFinder.values(fields, type)) {
        keys.add(type.name() + ":" + DuplicateFinder.searchable(type, value));
      }
    }
    return keys;
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
