package io.leadrelay.crm;

import io.leadrelay.config.RepeatConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What the integration's {@code repeat} policy would do with a mapped lead, for the admin preview of a delivery: the
 * values it is matched by, and the action when a match is found and when none is. Pure.
 */
public final class RepeatPreview {

  private RepeatPreview() {
  }

  /** The preview; null for the {@code new} policy (nothing is looked up) or a delivery that cannot be mapped. */
  public static JsonObject of(RepeatConfig repeat, String deliveryId, JsonObject fields) {
    if (repeat == null || !repeat.looksUp() || fields == null) {
      return null;
    }
    JsonArray matchedBy = new JsonArray();
    for (DuplicateFinder.Communication type : DuplicateFinder.Communication.values()) {
      DuplicateFinder.values(fields, type).forEach(value -> matchedBy.add(type.name() + " "
          + DuplicateFinder.searchable(type, value)));
    }
    String window = repeat.lookupDays() == 0 ? "of any age"
        : "changed in the last " + repeat.lookupDays() + " days";
    String whenFound = switch (repeat.policy()) {
      case COMMENT -> "a timeline comment on the most recently changed matching lead " + window
          + " (else contact), instead of a new lead";
      case UPDATE -> "that lead's empty fields filled, and a timeline comment on it (a contact alone gets the comment)";
      case LINK -> "a new lead with CONTACT_ID of the matching contact (or of the matching lead's contact)";
      case NEW -> "a new lead";
    };
    JsonObject preview = new JsonObject()
        .put("policy", repeat.policy().configName())
        .put("lookupDays", repeat.lookupDays())
        .put("matchedBy", matchedBy)
        .put("whenFound", whenFound)
        .put("whenNotFound", matchedBy.isEmpty() ? "a new lead (no phone or e-mail to match by)" : "a new lead");
    if (repeat.policy() == RepeatConfig.Policy.COMMENT || repeat.policy() == RepeatConfig.Policy.UPDATE) {
      preview.put("comment", RepeatComment.text(deliveryId, fields));
    }
    return preview;
  }
}
