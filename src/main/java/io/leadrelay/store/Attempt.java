package io.leadrelay.store;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One attempt's outcome, kept in the delivery's history for the admin view. {@code outcome} is a short word
 * ("created", "found", "refused", "ambiguous", "rejected", "portal_failure", "expired", "held"); the Bitrix24 part is
 * null where it does not apply. {@code fields} are the lead fields that were sent (kept as the delivery's last
 * mapped fields, not per attempt), or null.
 */
public record Attempt(Instant at, String outcome, String errorClass, Integer httpStatus, String code,
                      String description, JsonObject fields) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("at", at.toString())
        .put("outcome", outcome)
        .put("errorClass", errorClass)
        .put("httpStatus", httpStatus)
        .put("code", code)
        .put("description", description);
  }
}
