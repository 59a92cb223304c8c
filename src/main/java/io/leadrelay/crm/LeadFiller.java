package io.leadrelay.crm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;

/**
 * The {@code update} policy's change to an existing lead: the new webhook's values for the fields the lead has
 * empty, and nothing else. Written so that doing it twice changes nothing the second time (which is what makes a
 * repeated attempt safe): a field once filled is no longer empty, and a multi-field ({@code PHONE}, {@code EMAIL},
 * {@code IM}, {@code WEB}) gets rows only when the lead has none of that kind, because crm.lead.update ADDS every
 * row sent without its {@code ID} (reference §6) and would otherwise duplicate the subscriber's phone. Pure.
 */
public final class LeadFiller {

  private static final Set<String> MULTI_FIELDS = Set.of("PHONE", "EMAIL", "IM", "WEB");

  /**
   * Fields never filled: the lead's identity as another delivery's lead (ORIGINATOR_ID/ORIGIN_ID would make this
   * delivery's ORIGIN_ID look-up find a lead it did not create), and what the sales team owns once a lead exists.
   */
  private static final Set<String> KEPT = Set.of("ID", "ORIGINATOR_ID", "ORIGIN_ID", "STATUS_ID", "ASSIGNED_BY_ID",
      "TITLE", "OPENED", "DATE_CREATE", "DATE_MODIFY");

  private LeadFiller() {
  }

  /** The fields to send in crm.lead.update for {@code existing} (as crm.lead.list returned it); empty: none. */
  public static JsonObject fill(JsonObject existing, JsonObject fields) {
    JsonObject fill = new JsonObject();
    for (Map.Entry<String, Object> entry : fields) {
      String field = entry.getKey();
      Object value = entry.getValue();
      if (KEPT.contains(field) || isEmpty(value)) {
        continue;
      }
      if (MULTI_FIELDS.contains(field)) {
        if (!(value instanceof JsonArray) || hasRows(existing.getValue(field))) {
          continue;
        }
      } else if (!isEmpty(existing.getValue(field))) {
        continue;
      }
      fill.put(field, value);
    }
    return fill;
  }

  private static boolean hasRows(Object value) {
    return value instanceof JsonArray rows && !rows.isEmpty();
  }

  /** Bitrix24 answers an unset field as null or "", and an unset multi-field as missing or []. */
  private static boolean isEmpty(Object value) {
    return value == null
        || value instanceof String text && text.isBlank()
        || value instanceof JsonArray array && array.isEmpty()
        || value instanceof JsonObject object && object.isEmpty();
  }
}
