package io.leadrelay.mapping;

import io.leadrelay.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads an integration's {@code "mapping"} JSON object on top of {@link MappingConfig#defaults()}. Every mistake
 * stops start-up with one sentence naming the full key, so a user can fix the config without reading code.
 * Environment variables arrive as strings, so numbers and yes/no values are also accepted as text.
 */
final class MappingConfigReader {

  static final List<String> KEYS = List.of("title", "phoneType", "emailType", "assignedById", "sourceId",
      "sourceDescription", "statusId", "opened", "registerSonetEvent", "systemFields", "extraSystemFields",
      "fieldMap", "originatorId", "phoneRegion", "phoneFormat");

  /** VALUE_TYPEs Bitrix24 documents for the PHONE multi-field (reference: crm.lead.add). */
  static final List<String> PHONE_TYPES = List.of("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER");

  /** VALUE_TYPEs Bitrix24 documents for the EMAIL multi-field. */
  static final List<String> EMAIL_TYPES = List.of("WORK", "HOME", "MAILING", "OTHER");

  private static final Pattern BITRIX_FIELD = Pattern.compile("[A-Z][A-Z0-9_]*");

  /** The relay sets these itself to find the lead a delivery created; mapping into them would risk duplicates. */
  private static final Set<String> RELAY_FIELDS = Set.of("ORIGINATOR_ID", "ORIGIN_ID");

  private static final int MAX_SHOWN_VALUE = 60;

  private final String path;

  MappingConfigReader(String path) {
    this.path = path == null || path.isBlank() ? "mapping" : path;
  }

  MappingConfig read(JsonObject json) {
    MappingConfig defaults = MappingConfig.defaults();
    if (json == null) {
      return defaults;
    }
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new ConfigException(key(key) + " is not a known mapping key; known keys are "
            + String.join(", ", KEYS) + ".");
      }
    }
    List<String> systemFields = stringList(json, "systemFields", defaults.systemFields());
    List<String> extra = stringList(json, "extraSystemFields", List.of());
    Set<String> allSystemFields = new LinkedHashSet<>(systemFields);
    allSystemFields.addAll(extra);

    return new MappingConfig(
        title(json, defaults.titleTemplate()),
        oneOf(json, "phoneType", PHONE_TYPES, defaults.phoneValueType()),
        oneOf(json, "emailType", EMAIL_TYPES, defaults.emailValueType()),
        positiveInt(json, "assignedById", defaults.assignedById()),
        nonBlank(json, "sourceId", defaults.sourceId()),
        optionalText(json, "sourceDescription", defaults.sourceDescription()),
        optionalText(json, "statusId", defaults.statusId()),
        opened(json, defaults.opened()),
        yesNo(json, "registerSonetEvent", defaults.registerSonetEvent()),
        List.copyOf(allSystemFields),
        fieldMap(json, defaults.fieldMap()),
        nonBlank(json, "originatorId", defaults.originatorId()),
        phoneRegion(json, defaults.phoneRegion()),
        phoneFormat(json, defaults.phoneFormat()));
  }

  private String phoneRegion(JsonObject json, String fallback) {
    Object value = json.getValue("phoneRegion");
    if (value == null || value instanceof String blank && blank.isBlank()) {
      return fallback;
    }
    if (!(value instanceof String text) || !PhoneNormaliser.supportedRegion(text)) {
      throw invalid("phoneRegion", "must be a two-letter country code such as RU, KZ or BY", value);
    }
    return text.trim().toUpperCase(Locale.ROOT);
  }

  private PhoneNormaliser.Format phoneFormat(JsonObject json, PhoneNormaliser.Format fallback) {
    Object value = json.getValue("phoneFormat");
    if (value == null || value instanceof String blank && blank.isBlank()) {
      return fallback;
    }
    PhoneNormaliser.Format format = value instanceof String text ? PhoneNormaliser.Format.parse(text) : null;
    if (format == null) {
      throw invalid("phoneFormat", "must be e164 or original", value);
    }
    return format;
  }

  private String title(JsonObject json, String fallback) {
    Object value = json.getValue("title");
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String text)) {
      throw invalid("title", "must be a text (placeholders like {Тип продукта} are allowed)", value);
    }
    // A blank title renders as the default one anyway; accepting it lets an empty LEAD_TITLE mean "default".
    return text.isBlank() ? fallback : text;
  }

  private String oneOf(JsonObject json, String key, List<String> allowed, String fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    String type = value instanceof String text ? text.trim().toUpperCase(Locale.ROOT) : null;
    if (type == null || !allowed.contains(type)) {
      throw invalid(key, "must be one of " + String.join(", ", allowed), value);
    }
    return type;
  }

  private int positiveInt(JsonObject json, String key, int fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    BigDecimal number = null;
    if (value instanceof Number n) {
      number = decimal(n);
    } else if (value instanceof String text && text.trim().matches("\\d{1,10}")) {
      number = new BigDecimal(text.trim());
    }
    if (number == null || number.signum() <= 0 || number.stripTrailingZeros().scale() > 0
        || number.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
      throw invalid(key, "must be a positive whole number", value);
    }
    return number.intValueExact();
  }

  private static BigDecimal decimal(Number number) {
    if (number instanceof BigDecimal decimal) {
      return decimal;
    }
    if (number instanceof Double || number instanceof Float) {
      double d = number.doubleValue();
      return Double.isFinite(d) ? BigDecimal.valueOf(d) : null;
    }
    return new BigDecimal(number.toString());
  }

  private String nonBlank(JsonObject json, String key, String fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String text) || text.isBlank()) {
      throw invalid(key, "must be a non-empty text", value);
    }
    return text.trim();
  }

  /** Optional lead fields: blank means "leave it to the portal", which is what null means in MappingConfig. */
  private String optionalText(JsonObject json, String key, String fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String text)) {
      throw invalid(key, "must be a text", value);
    }
    return text.isBlank() ? null : text.trim();
  }

  private String opened(JsonObject json, String fallback) {
    Object value = json.getValue("opened");
    if (value == null) {
      return fallback;
    }
    Boolean yes = parseYesNo(value);
    if (yes == null) {
      throw invalid("opened", "must be true, false, \"Y\" or \"N\"", value);
    }
    return yes ? "Y" : "N";
  }

  private boolean yesNo(JsonObject json, String key, boolean fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    Boolean yes = parseYesNo(value);
    if (yes == null) {
      throw invalid(key, "must be true or false", value);
    }
    return yes;
  }

  private static Boolean parseYesNo(Object value) {
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof String text) {
      switch (text.trim().toUpperCase(Locale.ROOT)) {
        case "Y", "TRUE":
          return Boolean.TRUE;
        case "N", "FALSE":
          return Boolean.FALSE;
        default:
          return null;
      }
    }
    return null;
  }

  private List<String> stringList(JsonObject json, String key, List<String> fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof JsonArray array)) {
      throw invalid(key, "must be a list of payload keys", value);
    }
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof String text) || text.isEmpty()) {
        throw invalid(key + "[" + i + "]", "must be a payload key (a non-empty text)", item);
      }
      keys.add(text);
    }
    return keys;
  }

  private Map<String, String> fieldMap(JsonObject json, Map<String, String> fallback) {
    Object value = json.getValue("fieldMap");
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof JsonObject object)) {
      throw invalid("fieldMap", "must be an object of payload key to Bitrix24 field", value);
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (String payloadKey : object.fieldNames()) {
      String key = "fieldMap." + payloadKey;
      Object target = object.getValue(payloadKey);
      if (!(target instanceof String field) || !BITRIX_FIELD.matcher(field).matches()) {
        throw invalid(key, "must be a Bitrix24 field name in capitals, digits and _ (e.g. UF_CRM_CITY)", target);
      }
      if (RELAY_FIELDS.contains(field)) {
        throw invalid(key, "cannot be mapped to " + field + " because the relay sets it to find duplicates", target);
      }
      map.put(payloadKey, field);
    }
    return Collections.unmodifiableMap(map);
  }

  private String key(String key) {
    return path + "." + key;
  }

  private ConfigException invalid(String key, String rule, Object value) {
    return new ConfigException(key(key) + " " + rule + ", got " + shown(value) + ".");
  }

  /** The offending value as the user wrote it, quoted if text, cut short so one sentence stays one line. */
  private static String shown(Object value) {
    if (value instanceof String text) {
      return "\"" + shortened(text) + "\"";
    }
    if (value instanceof JsonObject object) {
      return shortened(object.encode());
    }
    if (value instanceof JsonArray array) {
      return shortened(array.encode());
    }
    return shortened(String.valueOf(value));
  }

  private static String shortened(String text) {
    String oneLine = text.replace('\n', ' ').replace('\r', ' ');
    return oneLine.length() > MAX_SHOWN_VALUE ? oneLine.substring(0, MAX_SHOWN_VALUE) + "…" : oneLine;
  }
}
