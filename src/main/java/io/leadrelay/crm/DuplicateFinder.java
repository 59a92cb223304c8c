package io.leadrelay.crm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finding existing CRM records by phone number or e-mail with {@code crm.duplicate.findbycomm} (reference:
 * bitrix24-rest.md §6): the calls to make for a set of values, and reading their answers. The method takes at most
 * {@value #MAX_VALUES} values of one type per call and matches the stored string exactly, so values are searched as
 * the lead carries them (phones as normalised by the mapping) and e-mails lower-cased, as they are saved.
 * Pure: no I/O; the caller sends the calls (on their own or as batch commands).
 */
public final class DuplicateFinder {

  public static final String METHOD = "crm.duplicate.findbycomm";
  /** Bitrix24 reads no more than this many values in one call. */
  public static final int MAX_VALUES = 20;

  /** The kind of communication searched: Bitrix24's {@code type} parameter. */
  public enum Communication { PHONE, EMAIL }

  /** A record kind the search can be limited to: Bitrix24's {@code entity_type} parameter. */
  public enum EntityType { LEAD, CONTACT, COMPANY }

  /** One call: its parameters, and the values it asks about (for reading the answer back). */
  public record Lookup(Communication type, List<String> values, EntityType entityType) {

    /** The call's parameters: {@code {"type": .., "values": [..], "entity_type": ..}} (no entity type: all three). */
    public JsonObject params() {
      JsonObject params = new JsonObject().put("type", type.name()).put("values", new JsonArray(values));
      if (entityType != null) {
        params.put("entity_type", entityType.name());
      }
      return params;
    }
  }

  /** The ids an answer names, by kind; empty lists when nothing matched. Ids in the order Bitrix24 gave them. */
  public record Matches(List<Long> leads, List<Long> contacts, List<Long> companies) {

    public static final Matches NONE = new Matches(List.of(), List.of(), List.of());

    public boolean isEmpty() {
      return leads.isEmpty() && contacts.isEmpty() && companies.isEmpty();
    }

    /** Both answers' ids, without repeats. */
    public Matches plus(Matches other) {
      return new Matches(union(leads, other.leads), union(contacts, other.contacts),
          union(companies, other.companies));
    }

    private static List<Long> union(List<Long> a, List<Long> b) {
      Set<Long> all = new LinkedHashSet<>(a);
      all.addAll(b);
      return List.copyOf(all);
    }
  }

  private DuplicateFinder() {
  }

  /**
   * The calls that search for every one of {@code values} of one type (blank ones and repeats left out; e-mails
   * lower-cased), {@value #MAX_VALUES} values per call, limited to {@code entityType} (null: leads, contacts and
   * companies in one call). No values: no calls.
   */
  public static List<Lookup> lookups(Communication type, Collection<String> values, EntityType entityType) {
    Set<String> distinct = new LinkedHashSet<>();
    for (String value : values) {
      String searched = searchable(type, value);
      if (searched != null) {
        distinct.add(searched);
      }
    }
    List<String> all = List.copyOf(distinct);
    List<Lookup> lookups = new ArrayList<>();
    for (int from = 0; from < all.size(); from += MAX_VALUES) {
      lookups.add(new Lookup(type, all.subList(from, Math.min(all.size(), from + MAX_VALUES)), entityType));
    }
    return lookups;
  }

  /** The value as it is searched for (trimmed; an e-mail lower-cased), or null when it is blank. */
  public static String searchable(Communication type, String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String trimmed = value.trim();
    return type == Communication.EMAIL ? trimmed.toLowerCase(Locale.ROOT) : trimmed;
  }

  /**
   * The values of a multi-field ({@code PHONE}, {@code EMAIL}) of a lead's or contact's fields, in order: the
   * {@code VALUE} of each row of the array. A field that is missing or not an array (Bitrix24 would not save it
   * either) has none.
   */
  public static List<String> values(JsonObject fields, Communication type) {
    Object field = fields == null ? null : fields.getValue(type.name());
    List<String> values = new ArrayList<>();
    if (field instanceof JsonArray rows) {
      for (Object row : rows) {
        if (row instanceof JsonObject object && object.getValue("VALUE") instanceof String value
            && !value.isBlank()) {
          values.add(value);
        }
      }
    }
    return values;
  }

  /**
   * Whether two records (a lead's fields and a found record's, as {@code crm.*.list} returns them with {@code PHONE}
   * and {@code EMAIL} selected) share a phone number or an e-mail, compared the way the search compares them. The
   * search's answer only names ids, not which value matched, so this is how a found record is told to belong to
   * one subscriber of a batch.
   */
  public static boolean shareCommunication(JsonObject fields, JsonObject found) {
    for (Communication type : Communication.values()) {
      Set<String> mine = new LinkedHashSet<>();
      values(fields, type).forEach(value -> mine.add(searchable(type, value)));
      for (String value : values(found, type)) {
        if (mine.contains(searchable(type, value))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Reads the {@code result} of one call: {@code {"LEAD": [ids], "CONTACT": [ids], "COMPANY": [ids]}}, any of them
   * missing, or {@code []} when nothing matched (PHP's empty array). Ids may come as numbers or numeric strings.
   *
   * @throws IllegalArgumentException for anything else (the answer cannot be trusted to mean "no match")
   */
  public static Matches parse(Object result) {
    if (result instanceof JsonArray array && array.isEmpty()) {
      return Matches.NONE;
    }
    if (!(result instanceof JsonObject object)) {
      throw new IllegalArgumentException("crm.duplicate.findbycomm answered neither an object nor []: " + result);
    }
    return new Matches(ids(object, "LEAD"), ids(object, "CONTACT"), ids(object, "COMPANY"));
  }

  private static List<Long> ids(JsonObject result, String kind) {
    Object section = result.getValue(kind);
    if (section == null) {
      return List.of();
    }
    // PHP writes a list with keys 0, 1, ... as an array, and one with other keys as an object: read both.
    Collection<?> raw = section instanceof JsonArray array ? array.getList()
        : section instanceof JsonObject object ? object.getMap().values()
        : null;
    if (raw == null) {
      throw new IllegalArgumentException("crm.duplicate.findbycomm answered a " + kind + " that is not a list");
    }
    Set<Long> ids = new LinkedHashSet<>();
    for (Object id : raw) {
      Long parsed = id instanceof Number number && number.longValue() > 0 ? Long.valueOf(number.longValue())
          : id instanceof String text && text.trim().matches("\\d{1,18}") ? Long.valueOf(text.trim())
          : null;
      if (parsed == null || parsed <= 0) {
        throw new IllegalArgumentException("crm.duplicate.findbycomm answered a " + kind + " id that is not one: "
            + id);
      }
      ids.add(parsed);
    }
    return List.copyOf(ids);
  }
}
