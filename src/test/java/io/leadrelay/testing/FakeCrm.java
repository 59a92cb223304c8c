package io.leadrelay.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The CRM beyond crm.lead.add for {@link FakeBitrixPortal}: what the repeat policies use, answered like a real
 * portal (reference bitrix24-rest.md §6 and the b24-rest-docs pages of each method):
 * <ul>
 *   <li>{@code crm.duplicate.findbycomm}: {@code {"LEAD": [ids], "CONTACT": [ids]}} with only the kinds that
 *   matched, {@code []} when nothing did; the stored phone string compared exactly, e-mails without case.</li>
 *   <li>{@code crm.lead.update}: {@code true}; a PHONE/EMAIL row without {@code ID} is added, as on a real portal.</li>
 *   <li>{@code crm.timeline.comment.add} (the comment's id) and {@code crm.timeline.comment.list} (filtered by
 *   ENTITY_ID and ENTITY_TYPE, pages of 50, order by ID).</li>
 *   <li>{@code crm.contact.add} and {@code crm.contact.list} (filtered by ID, {@code @ID} or any field exactly).</li>
 *   <li>{@code crm.deal.add} and {@code crm.deal.list} (filtered by any field exactly).</li>
 *   <li>{@code crm.settings.mode.get}: {@code 1} classic, {@code 2} simple. In simple mode a lead added with a NAME
 *   is converted at once (a contact, and a deal with its {@code LEAD_ID}; the lead's STATUS_ID becomes CONVERTED);
 *   without a NAME it stays a NEW lead (bitrix24-rest.md §7).</li>
 * </ul>
 * Leads stay in the portal; this class reads and changes their fields through the portal's own records and keeps
 * their dates (DATE_CREATE, DATE_MODIFY), which a test can set back with {@link #lastChanged}. Thread-safe.
 */
public final class FakeCrm {

  /** A timeline comment as stored. */
  public record Comment(long id, String entityType, long entityId, String text) {
  }

  /** A deal as stored. */
  public record Entity(long id, JsonObject fields) {
  }

  /** A method's result, or its error with the HTTP status a call on its own gets. */
  record Answer(Object result, int status, JsonObject error) {
    static Answer ok(Object result) {
      return new Answer(result, 200, null);
    }

    static Answer error(int status, String code, String description) {
      return new Answer(null, status, new JsonObject().put("error", code).put("error_description", description));
    }
  }

  private static final Set<String> METHODS = Set.of("crm.duplicate.findbycomm", "crm.lead.update",
      "crm.timeline.comment.add", "crm.timeline.comment.list", "crm.contact.add", "crm.contact.list",
      "crm.settings.mode.get", "crm.deal.add", "crm.deal.list");
  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssXXX");
  private static final int PAGE = 50;

  /** The portal's lead fields by id (live objects: an update changes the lead). */
  private final Function<Long, JsonObject> lead;
  private final Map<Long, Instant[]> leadDates = new java.util.concurrent.ConcurrentHashMap<>();
  /** "PHONE:value" / "EMAIL:value" → the leads that carry it: a portal with many leads answers a search at once. */
  private final Map<String, java.util.SortedSet<Long>> leadIndex = new java.util.HashMap<>();
  private final Map<Long, JsonObject> contacts = new LinkedHashMap<>();
  private final Map<Long, Instant[]> contactDates = new LinkedHashMap<>();
  private final List<Comment> comments = new CopyOnWriteArrayList<>();
  private final Map<Long, JsonObject> deals = new LinkedHashMap<>();
  private volatile int mode = 1;
  private volatile boolean modeFails;
  private final java.util.concurrent.atomic.AtomicInteger modeQuestions = new java.util.concurrent.atomic.AtomicInteger();
  private long nextDeal = 1;
  private long nextContact = 1;
  private long nextComment = 1;

  FakeCrm(Function<Long, JsonObject> lead) {
    this.lead = lead;
  }

  boolean handles(String method) {
    return METHODS.contains(method);
  }

  /** The portal created a lead with these fields. */
  synchronized void created(long id, JsonObject fields) {
    Instant now = Instant.now();
    leadDates.put(id, new Instant[] {now, now});
    index(id, fields);
  }

  private void index(long id, JsonObject fields) {
    for (String type : List.of("PHONE", "EMAIL")) {
      if (fields.getValue(type) instanceof JsonArray rows) {
        rows.forEach(row -> {
          if (row instanceof JsonObject r && r.getValue("VALUE") != null) {
            leadIndex.computeIfAbsent(type + ":" + normal(type, String.valueOf(r.getValue("VALUE"))),
                k -> new java.util.TreeSet<>()).add(id);
          }
        });
      }
    }
  }

  /** A crm.lead.list row with the lead's dates, as a real portal lists them. */
  JsonObject dated(long id, JsonObject row) {
    Instant[] dates = leadDates.get(id);
    if (dates != null) {
      row.put("DATE_CREATE", format(dates[0])).put("DATE_MODIFY", format(dates[1]));
    }
    return row;
  }

  // --- what tests see and set ---

  /** Every timeline comment added so far. */
  public List<Comment> comments() {
    return List.copyOf(comments);
  }

  /** A contact that exists before the test (a returning customer); its id. */
  public synchronized long addContact(JsonObject fields) {
    long id = nextContact++;
    contacts.put(id, fields.copy());
    Instant now = Instant.now();
    contactDates.put(id, new Instant[] {now, now});
    return id;
  }

  /** 1 classic CRM (with leads), 2 simple CRM (no leads). */
  public void mode(int mode) {
    this.mode = mode;
  }

  /** From now on crm.settings.mode.get answers 500, as a failing portal does. */
  public void modeFails(boolean fails) {
    this.modeFails = fails;
  }

  /** How often crm.settings.mode.get was asked. */
  public int modeQuestions() {
    return modeQuestions.get();
  }

  public synchronized List<Entity> deals() {
    return deals.entrySet().stream().map(e -> new Entity(e.getKey(), e.getValue().copy())).toList();
  }

  public synchronized List<Entity> contacts() {
    return contacts.entrySet().stream().map(e -> new Entity(e.getKey(), e.getValue().copy())).toList();
  }

  /**
   * What a real portal does right after adding a lead: in simple mode a lead with a NAME becomes a contact and a
   * deal. The fields to keep for the lead (STATUS_ID CONVERTED when converted).
   */
  synchronized JsonObject converted(long leadId, JsonObject fields) {
    if (mode != 2 || fields.getString("NAME", "").isBlank()) {
      return fields;
    }
    JsonObject contact = new JsonObject().put("LEAD_ID", leadId);
    for (String field : List.of("NAME", "LAST_NAME", "SECOND_NAME", "PHONE", "EMAIL")) {
      if (fields.containsKey(field)) {
        contact.put(field, fields.getValue(field));
      }
    }
    long contactId = addContact(contact);
    deals.put(nextDeal++, new JsonObject().put("TITLE", fields.getValue("TITLE")).put("LEAD_ID", leadId)
        .put("CONTACT_ID", contactId).put("COMMENTS", fields.getValue("COMMENTS")));
    return fields.copy().put("STATUS_ID", "CONVERTED");
  }

  /** Sets when a lead was created and last changed: a match older than a repeat window. */
  public void lastChanged(long leadId, Instant at) {
    leadDates.put(leadId, new Instant[] {at, at});
  }

  // --- the methods ---

  synchronized Answer call(String method, JsonObject params) {
    return switch (method) {
      case "crm.duplicate.findbycomm" -> findByComm(params);
      case "crm.lead.update" -> updateLead(params);
      case "crm.timeline.comment.add" -> addComment(params);
      case "crm.timeline.comment.list" -> listComments(params);
      case "crm.contact.add" -> params.getValue("fields") instanceof JsonObject fields
          ? Answer.ok(addContact(fields)) : Answer.error(400, "", "Parameter 'fields' must be array.");
      case "crm.contact.list" -> listContacts(params);
      case "crm.settings.mode.get" -> {
        modeQuestions.incrementAndGet();
        yield modeFails ? Answer.error(500, "INTERNAL_SERVER_ERROR", "Internal server error") : Answer.ok(mode);
      }
      case "crm.deal.add" -> {
        if (!(params.getValue("fields") instanceof JsonObject fields)) {
          yield Answer.error(400, "", "Parameter 'fields' must be array.");
        }
        long id = nextDeal++;
        deals.put(id, fields.copy());
        yield Answer.ok(id);
      }
      case "crm.deal.list" -> listDeals(params);
      default -> Answer.error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    };
  }

  private Answer findByComm(JsonObject params) {
    String type = params.getString("type");
    if (type == null || type.isBlank()) {
      return Answer.error(400, "", "Communication type is not defined");
    }
    if (!type.equals("PHONE") && !type.equals("EMAIL")) {
      return Answer.error(400, "", "Communication type '" + type + "' is not supported in current context");
    }
    if (!(params.getValue("values") instanceof JsonArray values) || values.isEmpty()) {
      return Answer.error(400, "", "Communication values is not defined");
    }
    List<String> wanted = values.stream().map(v -> normal(type, String.valueOf(v))).toList();
    String only = params.getString("entity_type");
    JsonObject result = new JsonObject();
    if (only == null || only.equals("LEAD")) {
      java.util.SortedSet<Long> found = new java.util.TreeSet<>();
      wanted.forEach(value -> found.addAll(leadIndex.getOrDefault(type + ":" + value,
          java.util.Collections.emptySortedSet())));
      List<Long> ids = List.copyOf(found);
      if (!ids.isEmpty()) {
        result.put("LEAD", new JsonArray(ids));
      }
    }
    if (only == null || only.equals("CONTACT")) {
      List<Long> ids = contacts.entrySet().stream().filter(c -> has(c.getValue(), type, wanted))
          .map(Map.Entry::getKey).toList();
      if (!ids.isEmpty()) {
        result.put("CONTACT", new JsonArray(ids));
      }
    }
    // PHP's empty array when nothing matched.
    return Answer.ok(result.isEmpty() ? new JsonArray() : result);
  }

  private static boolean has(JsonObject fields, String type, List<String> wanted) {
    if (!(fields.getValue(type) instanceof JsonArray rows)) {
      return false;
    }
    return rows.stream().anyMatch(row -> row instanceof JsonObject r && r.getValue("VALUE") != null
        && wanted.contains(normal(type, String.valueOf(r.getValue("VALUE")))));
  }

  private static String normal(String type, String value) {
    return type.equals("EMAIL") ? value.trim().toLowerCase(Locale.ROOT) : value;
  }

  private Answer updateLead(JsonObject params) {
    Long id = id(params.getValue("id"));
    JsonObject existing = id == null ? null : lead.apply(id);
    if (existing == null) {
      return Answer.error(400, "", "Not found");
    }
    if (!(params.getValue("fields") instanceof JsonObject fields)) {
      return Answer.error(400, "", "Parameter 'fields' must be array.");
    }
    fields.forEach(entry -> {
      if (entry.getValue() instanceof JsonArray rows && (entry.getKey().equals("PHONE")
          || entry.getKey().equals("EMAIL") || entry.getKey().equals("IM") || entry.getKey().equals("WEB"))) {
        // A row without its ID is a new row: Bitrix24 appends it, it never replaces one.
        JsonArray merged = existing.getValue(entry.getKey()) instanceof JsonArray old ? old.copy() : new JsonArray();
        rows.forEach(row -> {
          if (row instanceof JsonObject r && r.getValue("ID") == null) {
            merged.add(r.copy());
          }
        });
        existing.put(entry.getKey(), merged);
        index(id, new JsonObject().put(entry.getKey(), merged));
      } else {
        existing.put(entry.getKey(), entry.getValue());
      }
    });
    Instant[] dates = leadDates.computeIfAbsent(id, i -> new Instant[] {Instant.now(), Instant.now()});
    dates[1] = Instant.now();
    return Answer.ok(true);
  }

  private Answer addComment(JsonObject params) {
    JsonObject fields = params.getValue("fields") instanceof JsonObject f ? f : new JsonObject();
    Long entityId = id(fields.getValue("ENTITY_ID"));
    String type = fields.getString("ENTITY_TYPE");
    String text = fields.getValue("COMMENT") instanceof String c ? c : null;
    if (entityId == null || type == null || text == null || text.isBlank()) {
      return Answer.error(400, "", "Required fields are not filled: ENTITY_ID, ENTITY_TYPE, COMMENT");
    }
    boolean exists = type.equalsIgnoreCase("lead") ? lead.apply(entityId) != null
        : type.equalsIgnoreCase("contact") && contacts.containsKey(entityId);
    if (!exists) {
      return Answer.error(400, "", "Entity not found.");
    }
    long id = nextComment++;
    comments.add(new Comment(id, type.toLowerCase(Locale.ROOT), entityId, text));
    return Answer.ok(id);
  }

  private Answer listComments(JsonObject params) {
    JsonObject filter = params.getValue("filter") instanceof JsonObject f ? f : new JsonObject();
    Long entityId = id(filter.getValue("ENTITY_ID"));
    String type = filter.getString("ENTITY_TYPE");
    if (entityId == null || type == null) {
      return Answer.error(400, "", "ENTITY_ID and ENTITY_TYPE are required in filter.");
    }
    boolean descending = params.getValue("order") instanceof JsonObject order
        && "DESC".equalsIgnoreCase(String.valueOf(order.getValue("ID")));
    List<Comment> found = comments.stream()
        .filter(c -> c.entityId() == entityId && c.entityType().equalsIgnoreCase(type))
        .sorted(descending ? Comparator.comparingLong(Comment::id).reversed() : Comparator.comparingLong(Comment::id))
        .toList();
    int start = start(params);
    JsonArray page = new JsonArray();
    found.stream().skip(start).limit(PAGE).forEach(c -> page.add(new JsonObject()
        .put("ID", String.valueOf(c.id())).put("ENTITY_ID", String.valueOf(c.entityId()))
        .put("ENTITY_TYPE", c.entityType()).put("CREATED", format(Instant.now()))
        .put("COMMENT", c.text()).put("AUTHOR_ID", "1")));
    return Answer.ok(page);
  }

  private Answer listContacts(JsonObject params) {
    JsonObject filter = params.getValue("filter") instanceof JsonObject f ? f : new JsonObject();
    Object ids = filter.getValue("@ID") != null ? filter.getValue("@ID") : filter.getValue("ID");
    List<String> wanted = ids instanceof JsonArray array ? array.stream().map(String::valueOf).toList()
        : ids == null ? null : List.of(String.valueOf(ids));
    JsonArray rows = new JsonArray();
    contacts.forEach((id, fields) -> {
      if ((wanted == null || wanted.contains(String.valueOf(id))) && fieldsMatch(fields, filter)) {
        Instant[] dates = contactDates.get(id);
        rows.add(fields.copy().put("ID", String.valueOf(id))
            .put("DATE_CREATE", format(dates[0])).put("DATE_MODIFY", format(dates[1])));
      }
    });
    int start = start(params);
    return Answer.ok(new JsonArray(rows.getList().subList(Math.min(start, rows.size()),
        Math.min(start + PAGE, rows.size()))));
  }

  private Answer listDeals(JsonObject params) {
    JsonObject filter = params.getValue("filter") instanceof JsonObject f ? f : new JsonObject();
    JsonArray rows = new JsonArray();
    deals.forEach((id, fields) -> {
      if (fieldsMatch(fields, filter) && (filter.getValue("ID") == null
          || String.valueOf(filter.getValue("ID")).equals(String.valueOf(id)))) {
        rows.add(fields.copy().put("ID", String.valueOf(id)));
      }
    });
    int start = start(params);
    return Answer.ok(new JsonArray(rows.getList().subList(Math.min(start, rows.size()),
        Math.min(start + PAGE, rows.size()))));
  }

  /** Exact match on every filter key but ID and @ID (those are the record's id, matched by the caller). */
  private static boolean fieldsMatch(JsonObject fields, JsonObject filter) {
    for (Map.Entry<String, Object> condition : filter) {
      if (condition.getKey().equals("ID") || condition.getKey().equals("@ID")) {
        continue;
      }
      Object value = fields.getValue(condition.getKey());
      if (value == null || !String.valueOf(value).equals(String.valueOf(condition.getValue()))) {
        return false;
      }
    }
    return true;
  }

  private static int start(JsonObject params) {
    Long start = id(params.getValue("start"));
    return start == null ? 0 : (int) Math.min(Integer.MAX_VALUE, start);
  }

  private static Long id(Object value) {
    if (value instanceof Number number && number.longValue() > 0) {
      return number.longValue();
    }
    if (value instanceof String text && text.trim().matches("\\d{1,18}")) {
      return Long.parseLong(text.trim());
    }
    return null;
  }

  private static String format(Instant at) {
    return OffsetDateTime.ofInstant(at, ZoneOffset.ofHours(3)).format(DATE);
  }
}
