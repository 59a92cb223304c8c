package io.leadrelay.bitrix;

import io.leadrelay.config.PortalConfig;
import io.leadrelay.crm.DealFields;
import io.leadrelay.crm.DuplicateFinder;
import io.leadrelay.crm.DuplicateFinder.Communication;
import io.leadrelay.crm.DuplicateFinder.EntityType;
import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Delivers one webhook of a {@code target: deal} integration as a deal bound to a contact, exactly once, in two
 * requests:
 * <ol>
 *   <li>a look-up batch: the subscriber's phones and e-mails in the portal's contacts
 *   ({@code crm.duplicate.findbycomm}) and, when an earlier attempt may have got through (uncertain, or tried
 *   before), the deal and the contact with this delivery's ORIGINATOR_ID/ORIGIN_ID ({@code crm.deal.list},
 *   {@code crm.contact.list});</li>
 *   <li>the deal, bound to the contact found ({@code crm.deal.add}), or a batch with {@code halt: 1} that adds the
 *   contact and then the deal with {@code CONTACT_ID = $result[contact]}, so a failed contact never leaves a deal
 *   without one.</li>
 * </ol>
 * A deal found in step 1 is the delivery's deal: nothing is added. A contact this delivery created earlier is
 * reused, so a lost answer never doubles the contact either. Fields a batch cannot carry (see
 * {@link BatchEncoder#aloneReason}) go as two plain JSON calls instead. The id reported is the deal's.
 */
final class DealSender {

  /** What was delivered: the deal's id, and whether it existed already (an earlier attempt made it). */
  record Done(long dealId, boolean found) {
  }

  private final PortalConfig portal;
  private final BitrixClient client;
  private final BatchEncoder encoder = new BatchEncoder();
  /** Tells the portal's limiter about a request beyond the one the queue's permit paid for. */
  private final Runnable extraRequest;

  DealSender(PortalConfig portal, BitrixClient client, Runnable extraRequest) {
    this.portal = portal;
    this.client = client;
    this.extraRequest = extraRequest;
  }

  /** Requests one delivery costs at most (the look-up and the add). */
  static int requests() {
    return 2;
  }

  Future<Done> send(LeadCommand lead) {
    DealFields.Split split = DealFields.split(lead.fields());
    boolean lookBack = lead.uncertain() || lead.attempts() > 0;
    Map<String, String> lookUps = new LinkedHashMap<>();
    JsonObject mine = new JsonObject().put("ORIGINATOR_ID", lead.originatorId()).put("ORIGIN_ID", lead.deliveryId());
    if (lookBack) {
      lookUps.put("deal", encoder.command("crm.deal.list", listParams(mine)));
      lookUps.put("own", encoder.command("crm.contact.list", listParams(mine)));
    }
    int i = 0;
    for (Communication type : Communication.values()) {
      for (DuplicateFinder.Lookup lookup : DuplicateFinder.lookups(type, DuplicateFinder.values(split.contact(), type),
          EntityType.CONTACT)) {
        lookUps.put("match" + i++, encoder.command(DuplicateFinder.METHOD, lookup.params()));
      }
    }
    Future<Found> found = lookUps.isEmpty() ? Future.succeededFuture(new Found(null, null))
        : client.batch(portal, lookUps).compose(this::found);
    return found.compose(existing -> {
      if (existing.deal() != null) {
        return Future.succeededFuture(new Done(existing.deal(), true));
      }
      if (!lookUps.isEmpty()) {
        extraRequest.run();
      }
      return add(split, existing.contact()).map(id -> new Done(id, false));
    });
  }

  /** The look-up's answer: this delivery's deal, and the contact to bind it to (its own first, else the oldest). */
  private record Found(Long deal, Long contact) {
  }

  private Future<Found> found(BatchResult result) {
    Long deal = null;
    Long own = null;
    List<Long> matches = new ArrayList<>();
    for (BatchOutcome outcome : result.outcomes().values()) {
      if (!outcome.succeeded()) {
        // Without every answer a deal or contact could look absent and be added twice: try again later.
        return Future.failedFuture(new BitrixException(outcome.error()));
      }
      switch (outcome.name()) {
        case "deal" -> deal = firstId(outcome.result());
        case "own" -> own = firstId(outcome.result());
        default -> matches.addAll(DuplicateFinder.parse(outcome.result()).contacts());
      }
    }
    Long contact = own != null ? own : matches.stream().min(Long::compare).orElse(null);
    return Future.succeededFuture(new Found(deal, contact));
  }

  private Future<Long> add(DealFields.Split split, Long contact) {
    if (contact != null) {
      return addOne("crm.deal.add", split.dealFor(contact));
    }
    JsonObject contactBody = body(split.contact());
    JsonObject dealBody = body(split.dealFor("$result[contact]"));
    if (encoder.aloneReason("crm.contact.add", contactBody) != null
        || encoder.aloneReason("crm.deal.add", body(split.deal())) != null) {
      // A value Bitrix24 would rewrite inside a batch: two plain calls (a lost answer between them is found by
      // the next attempt's look-up of this delivery's contact).
      return addOne("crm.contact.add", split.contact()).compose(id -> {
        extraRequest.run();
        return addOne("crm.deal.add", split.dealFor(id));
      });
    }
    Map<String, String> commands = new LinkedHashMap<>();
    commands.put("contact", encoder.command("crm.contact.add", contactBody));
    commands.put("deal", encoder.command("crm.deal.add", dealBody));
    JsonObject batch = encoder.batchBody(commands).put("halt", 1);
    return client.call(portal, "batch", batch)
        .map(answer -> BatchResult.parse(answer, List.copyOf(commands.keySet())).redact(portal.secretCode()))
        .compose(result -> {
          BatchOutcome contactAdded = result.outcome("contact");
          if (!contactAdded.succeeded()) {
            return Future.failedFuture(new BitrixException(contactAdded.error()));
          }
          BatchOutcome dealAdded = result.outcome("deal");
          Long id = dealAdded.succeeded() ? dealAdded.leadId() : null;
          return id != null ? Future.succeededFuture(id)
              : Future.failedFuture(new BitrixException(dealAdded.leadAddError()));
        });
  }

  private Future<Long> addOne(String method, JsonObject fields) {
    return client.call(portal, method, body(fields)).compose(answer -> {
      Long id = firstId(new JsonArray().add(new JsonObject().put("ID", answer.getValue("result"))));
      return id != null ? Future.succeededFuture(id) : Future.failedFuture(new BitrixException(new BitrixError(
          ErrorClass.AMBIGUOUS, 200, null, method + " answered without an id")));
    });
  }

  private static JsonObject body(JsonObject fields) {
    return new JsonObject().put("fields", fields);
  }

  private static JsonObject listParams(JsonObject filter) {
    return new JsonObject().put("filter", filter).put("select", new JsonArray().add("ID"))
        .put("order", new JsonObject().put("ID", "ASC"));
  }

  /** The ID of a list answer's first row (a number or its text), or null for an empty list. */
  private static Long firstId(Object rows) {
    if (!(rows instanceof JsonArray list) || list.isEmpty() || !(list.getValue(0) instanceof JsonObject row)) {
      return null;
    }
    Object id = row.getValue("ID");
    if (id instanceof Number number) {
      return number.longValue();
    }
    return id instanceof String text && text.trim().matches("\\d{1,18}") ? Long.parseLong(text.trim()) : null;
  }
}
