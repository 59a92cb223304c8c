package io.leadrelay.mapping;

import io.leadrelay.store.Delivery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns one BotHelp payload into the crm.lead.add fields and params of one integration, as the seed PHP script
 * did, plus what the relay needs (NAME always filled, ORIGINATOR_ID/ORIGIN_ID, a configurable field map).
 * Pure and total: any JSON object maps to a lead, because a delivery BotHelp was already told we accepted must
 * not be lost to a surprising value.
 */
public final class LeadMapper {

  /** The five UTM payload keys and the lead fields they fill, in the order they appear on the lead. */
  private static final Map<String, String> UTM_FIELDS = orderedUtmFields();

  /** Payload keys that become standard lead fields and therefore never repeat in COMMENTS. */
  private static final Set<String> STANDARD_KEYS = Set.of(
      "name", "first_name", "last_name", "phone", "email",
      "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term");

  /** Bitrix24 multi-fields: a plain string sent to one of these is silently not saved, so values go as rows. */
  private static final Set<String> MULTI_FIELDS = LeadFieldGuard.MULTI_FIELDS;

  /** Set by the relay itself: a field map must not break the lookup that keeps a lead from being created twice. */
  private static final Set<String> RELAY_FIELDS = Set.of("ORIGINATOR_ID", "ORIGIN_ID");

  private static final String NAME_FALLBACK = "BotHelp";

  /** Worded like LeadFieldGuard's notes; the value itself stays in PHONE. */
  static final String PHONE_NOTE = "Телефон (не распознан как номер, сохранён как введён): ";

  private final MappingConfig config;
  private final TitleTemplate title;
  private final Set<String> systemFields;
  private final Map<String, String> fieldMap;
  private final JsonObject params;
  private final PhoneNormaliser phones;

  public LeadMapper(MappingConfig config) {
    this.config = config;
    this.title = new TitleTemplate(config.titleTemplate(), MappingConfig.DEFAULT_TITLE);
    this.systemFields = config.systemFields() == null ? Set.of() : new HashSet<>(config.systemFields());
    this.fieldMap = config.fieldMap() == null ? Map.of() : new HashMap<>(config.fieldMap());
    this.params = new JsonObject().put("REGISTER_SONET_EVENT", config.registerSonetEvent() ? "Y" : "N");
    this.phones = new PhoneNormaliser(config.phoneRegion(), config.phoneFormat());
  }

  /**
   * The lead for a delivery: its fields with ORIGIN_ID = the delivery id, this integration's params, and the
   * delivery's attempt state carried along for the sender.
   */
  public LeadCommand map(Delivery delivery) {
    return new LeadCommand(delivery.id(), delivery.integration(), delivery.receivedAt(),
        fields(delivery.payload(), delivery.id()), params(), delivery.attempts(), delivery.uncertain(),
        delivery.firstFailedAt());
  }

  /** The params of crm.lead.add (a fresh copy: the caller may put it on the bus or change it). */
  public JsonObject params() {
    return params.copy();
  }

  /** The fields of crm.lead.add for this payload, keys in the order documented in MAPPING-KEYS.md. */
  public JsonObject fields(JsonObject payload, String deliveryId) {
    JsonObject source = payload == null ? new JsonObject() : payload;
    JsonObject fields = new JsonObject();
    fields.put("TITLE", title.render(source));
    fields.put("NAME", name(source));
    putMultiValue(fields, "PHONE", source.getValue("phone"), valueType("PHONE"));
    putMultiValue(fields, "EMAIL", source.getValue("email"), valueType("EMAIL"));
    UTM_FIELDS.forEach((key, field) -> putText(fields, field, source.getValue(key)));
    fields.put("ASSIGNED_BY_ID", config.assignedById());
    putText(fields, "SOURCE_ID", config.sourceId());
    putText(fields, "SOURCE_DESCRIPTION", config.sourceDescription());
    putText(fields, "STATUS_ID", config.statusId());
    putText(fields, "OPENED", config.opened());

    String mappedComment = null;
    StringBuilder comments = new StringBuilder();
    for (Map.Entry<String, Object> entry : source) {
      String key = entry.getKey();
      Object value = entry.getValue();
      String target = fieldMap.get(key);
      if (target != null) {
        if (target.equals("COMMENTS")) {
          mappedComment = PayloadValue.text(value);
        } else {
          putMapped(fields, target, value);
        }
      } else if (!systemFields.contains(key) && !STANDARD_KEYS.contains(key) && !PayloadValue.isBlank(value)) {
        if (comments.length() > 0) {
          comments.append('\n');
        }
        comments.append(key).append(": ").append(PayloadValue.text(value));
      }
    }
    normalisePhones(fields, comments);
    putText(fields, "COMMENTS", joinComments(mappedComment, comments.toString()));

    // Checked here, not when sending, so that the admin preview shows the lead exactly as it will be created.
    JsonObject guarded = LeadFieldGuard.guard(fields);
    putText(guarded, "ORIGINATOR_ID", config.originatorId());
    putText(guarded, "ORIGIN_ID", deliveryId);
    return guarded;
  }

  /**
   * Bitrix24 turns a lead into a deal on "simple CRM" portals only when NAME is filled, so NAME falls back from
   * the profile name to first + last name, the messenger nickname and finally the BotHelp subscriber id.
   */
  private static String name(JsonObject payload) {
    String name = PayloadValue.text(payload.getValue("name"));
    if (!name.isEmpty()) {
      return name;
    }
    String fullName = (PayloadValue.text(payload.getValue("first_name")) + " "
        + PayloadValue.text(payload.getValue("last_name"))).trim();
    if (!fullName.isEmpty()) {
      return fullName;
    }
    String username = PayloadValue.text(payload.getValue("messenger_username"));
    if (!username.isEmpty()) {
      return username;
    }
    String subscriber = PayloadValue.text(payload.getValue("bothelp_user_id"));
    return subscriber.isEmpty() ? NAME_FALLBACK : NAME_FALLBACK + " " + subscriber;
  }

  /**
   * Every PHONE row in one form (see {@link PhoneNormaliser}), so that Bitrix24's duplicate search matches; a row
   * that turns out the same as an earlier one is not sent twice. A value that is no phone number keeps its row as
   * typed and gets a line in the comments, so the manager sees why it looks odd.
   */
  private void normalisePhones(JsonObject fields, StringBuilder comments) {
    if (!(fields.getValue("PHONE") instanceof JsonArray rows)) {
      return;
    }
    JsonArray normalised = new JsonArray();
    Set<String> seen = new HashSet<>();
    for (Object row : rows) {
      JsonObject phoneRow = (JsonObject) row;
      PhoneNormaliser.Phone phone = phones.normalise(PayloadValue.text(phoneRow.getValue("VALUE")));
      // Past Bitrix24's length limit the guard moves the value to COMMENTS with its own note: one note is enough.
      if (!phone.recognised() && !phone.value().isEmpty()
          && phone.value().codePointCount(0, phone.value().length()) <= LeadFieldGuard.MULTI_VALUE_MAX) {
        if (comments.length() > 0) {
          comments.append('\n');
        }
        comments.append(PHONE_NOTE).append(phone.value());
      }
      if (seen.add(phone.value())) {
        normalised.add(phoneRow.copy().put("VALUE", phone.value()));
      }
    }
    fields.put("PHONE", normalised);
  }

  private void putMapped(JsonObject fields, String target, Object value) {
    if (PayloadValue.isBlank(value) || RELAY_FIELDS.contains(target)) {
      return;
    }
    if (MULTI_FIELDS.contains(target)) {
      putMultiValue(fields, target, value, valueType(target));
    } else if (value instanceof CharSequence text) {
      fields.put(target, text.toString().trim());
    } else {
      // Numbers stay numbers (OPPORTUNITY, numeric UF_CRM_* fields); an existing key keeps its place in the order.
      fields.put(target, value);
    }
  }

  private String valueType(String multiField) {
    String configured = switch (multiField) {
      case "PHONE" -> config.phoneValueType();
      case "EMAIL" -> config.emailValueType();
      default -> "OTHER";
    };
    return configured == null || configured.isBlank() ? "WORK" : configured;
  }

  /** Appends a {@code {"VALUE", "VALUE_TYPE"}} row, creating the multi-field on first use. */
  private static void putMultiValue(JsonObject fields, String field, Object value, String valueType) {
    String text = PayloadValue.text(value);
    if (text.isEmpty()) {
      return;
    }
    Object existing = fields.getValue(field);
    JsonArray rows = existing instanceof JsonArray array ? array : new JsonArray();
    rows.add(new JsonObject().put("VALUE", text).put("VALUE_TYPE", valueType));
    fields.put(field, rows);
  }

  private static void putText(JsonObject fields, String field, Object value) {
    String text = PayloadValue.text(value);
    if (!text.isEmpty()) {
      fields.put(field, text);
    }
  }

  private static String joinComments(String mappedComment, String lines) {
    if (mappedComment == null || mappedComment.isEmpty()) {
      return lines;
    }
    return lines.isEmpty() ? mappedComment : mappedComment + "\n" + lines;
  }

  private static Map<String, String> orderedUtmFields() {
    Map<String, String> utm = new LinkedHashMap<>();
    for (String part : List.of("source", "medium", "campaign", "content", "term")) {
      utm.put("utm_" + part, "UTM_" + part.toUpperCase(Locale.ROOT));
    }
    return Collections.unmodifiableMap(utm);
  }
}
