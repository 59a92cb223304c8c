package io.leadrelay.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The deals, contacts and CRM mode of a {@link FakeBitrixPortal}, answered as the real portal answers them
 * (b24-rest-docs; bitrix24-rest.md §6, §7): {@code crm.settings.mode.get} → {@code 1} or {@code 2};
 * {@code crm.deal.add} / {@code crm.contact.add} → the new id; {@code crm.deal.list} / {@code crm.contact.list}
 * → rows with the ID as text, {@code total} and {@code next}; {@code crm.duplicate.findbycomm} →
 * {@code {"CONTACT":[ids]}} or {@code []} when nothing matches (it compares the stored strings exactly). In simple
 * mode a lead added with a NAME is converted at once: a contact and a deal with its {@code LEAD_ID}, and the lead's
 * STATUS_ID becomes CONVERTED; a lead without a NAME stays a NEW lead.
 */
public final class FakeCrm {

  /** A deal or a contact. */
  public record Entity(long id, JsonObject fields) {
  }

  /** One method's answer: the {@code result}, or an error body with its HTTP status. */
  record Answer(Object result, int status, JsonObject error) {
    static Answer ok(Object result) {
      return new Answer(result, 200, null);
    }

    static Answer error(int status, String code, String description) {
      return new Answer(null, status, new JsonObject().put("error", code).put("error_description", description));
    }
  }

  static final Set<String> METHODS = Set.of("crm.settings.mode.get", "crm.deal.add", "crm.deal.list",
      "crm.contact.add", "crm.contact.list", "crm.duplicate.findbycomm");

  private static final int PAGE = 50;

  private final List<Entity> deals = new CopyOnWriteArrayList<>();
  private final List<Entity> contacts = new CopyOnWriteArrayList<>();
  private final AtomicLong nextId = new AtomicLong(1000);
  private final AtomicInteger modeQuestions = new AtomicInteger();
  private volatile int mode = 1;
  private volatile boolean modeFails;

  /** 1 classic (with leads), 2 simple (no leads). */
  public void mode(int mode) {
    this.mode = mode;
  }

  /** From now on crm.settings.mode.get answers 500, as a failing portal does. */
  public void modeFails(boolean fails) {
    this.modeFails = fails;
  }

  public int modeQuestions() {
    return modeQuestions.get();
  }

  public List<Entity> deals() {
    return List.copyOf(deals);
  }

  public List<Entity> contacts() {
    return List.copyOf(contacts);
  }

  /** A contact that exists before the relay runs (a returning customer). */
  public long addContact(JsonObject fields) {
    long id = nextId.getAndIncrement();
    contacts.add(new Entity(id, fields.copy()));
    return id;
  }

  /**
   * What a real portal does right after adding a lead: in simple mode a lead with a NAME becomes a contact and a
   * deal. Returns the fields to keep for the lead (STATUS_ID CONVERTED when converted).
   */
  JsonObject leadAdded(long leadId, JsonObject fields) {
    if (mode != 2 || fields.getString("NAME", "").isBlank()) {
      return fields;
    }
    JsonObject contact = new JsonObject();
    for (String field : List.of("NAME", "LAST_NAME", "SECOND_NAME", "PHONE", "EMAIL")) {
      if (fields.containsKey(field)) {
        contact.put(field, fields.getValue(field));
      }
    }
    long contactId = addContact(contact.put("LEAD_ID", leadId));
    JsonObject deal = new JsonObject().put("TITLE", fields.getValue("TITLE")).put("LEAD_ID", leadId)
        .put("CONTACT_ID", contactId).put("COMMENTS", fields.getValue("COMMENTS"));
    deals.add(new Entity(nextId.getAndIncrement(), deal));
    return fields.copy().put("STATUS_ID", "CONVERTED");
  }

  /** Answers one of {@link #METHODS}; {@code leads} gives the portal's leads for the duplicate search. */
  Answer call(String method, JsonObject params, Supplier<List<JsonObject>> leads) {
    switch (method) {
      case "crm.settings.mode.get":
        modeQuestions.incrementAndGet();
        return modeFails ? Answer.error(500, "INTERNAL_SERVER_ERROR", "Internal server error") : Answer.ok(mode);
      case "crm.deal.add":
        return add(deals, params);
      case "crm.contact.add":
        return add(contacts, params);
      case "crm.deal.list":
        return list(deals, params);
      case "crm.contact.list":
        return list(contacts, params);
      case "crm.duplicate.findbycomm":
        return findByComm(params, leads);
      default:
        return Answer.error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    }
  }

  private Answer add(List<Entity> entities, JsonObject params) {
    if (!(params.getValue("fields") instanceof JsonObject fields)) {
      return Answer.error(400, "", "Parameter 'fields' must be array.");
    }
    long id = nextId.getAndIncrement();
    entities.add(new Entity(id, fields.copy()));
    return Answer.ok(id);
  }

  private static Answer list(List<Entity> entities, JsonObject params) {
    JsonObject filter = params.getValue("filter") instanceof JsonObject f ? f : new JsonObject();
    List<JsonObject> found = new ArrayList<>();
    for (Entity entity : entities) {
      if (matches(entity, filter)) {
        found.add(entity.fields().copy().put("ID", String.valueOf(entity.id())));
      }
    }
    int start = Math.max(0, params.getInteger("start", 0));
    JsonObject page = new JsonObject()
        .put("result", new JsonArray(found.subList(Math.min(start, found.size()),
            Math.min(start + PAGE, found.size()))))
        .put("total", found.size());
    if (start + PAGE < found.size()) {
      page.put("next", start + PAGE);
    }
    return new Answer(page, 200, null);
  }

  private static boolean matches(Entity entity, JsonObject filter) {
    for (Map.Entry<String, Object> condition : filter) {
      Object value = condition.getKey().equals("ID") ? entity.id() : entity.fields().getValue(condition.getKey());
      if (value == null || !String.valueOf(value).equals(String.valueOf(condition.getValue()))) {
        return false;
      }
    }
    return true;
  }

  /** Exact string match of PHONE or EMAIL values, in contacts (and leads), at most 20 values as the docs say. */
  private Answer findByComm(JsonObject params, Supplier<List<JsonObject>> leads) {
    String type = params.getString("type", "");
    if (!type.equals("PHONE") && !type.equals("EMAIL")) {
      return Answer.error(400, "", "Communication type is not defined.");
    }
    JsonArray values = params.getValue("values") instanceof JsonArray array ? array : new JsonArray();
    if (values.isEmpty() || values.size() > 20) {
      return Answer.error(400, "", "Too many communications. Maximum allowed count is 20.");
    }
    String entityType = params.getString("entity_type", "");
    JsonObject result = new JsonObject();
    if (entityType.isEmpty() || entityType.equals("CONTACT")) {
      JsonArray ids = new JsonArray();
      contacts.stream().filter(c -> hasValue(c.fields(), type, values)).forEach(c -> ids.add(c.id()));
      if (!ids.isEmpty()) {
        result.put("CONTACT", ids);
      }
    }
    if (entityType.isEmpty() || entityType.equals("LEAD")) {
      JsonArray ids = new JsonArray();
      leads.get().stream().filter(l -> hasValue(l, type, values)).forEach(l -> ids.add(Long.parseLong(l.getString("ID"))));
      if (!ids.isEmpty()) {
        result.put("LEAD", ids);
      }
    }
    return Answer.ok(result.isEmpty() ? new JsonArray() : result);
  }

  private static boolean hasValue(JsonObject fields, String type, JsonArray values) {
    if (!(fields.getValue(type) instanceof JsonArray rows)) {
      return false;
    }
    for (Object row : rows) {
      Object value = row instanceof JsonObject object ? object.getValue("VALUE") : row;
      if (value != null && values.contains(String.valueOf(value))) {
        return true;
      }
    }
    return false;
  }
}
