package io.leadrelay.mapping;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * A lead ready to be created: the Bitrix24 {@code fields} and {@code params} of crm.lead.add for one delivery, with
 * the delivery's state that decides how it is sent ({@code uncertain}: look the lead up before adding it) and what
 * happens after a failure ({@code attempts}, {@code firstFailedAt}).
 */
public record LeadCommand(String deliveryId, String integration, Instant receivedAt, JsonObject fields,
                          JsonObject params, int attempts, boolean uncertain, Instant firstFailedAt) {

  /** A first attempt. */
  public LeadCommand(String deliveryId, String integration, Instant receivedAt, JsonObject fields,
                     JsonObject params) {
    this(deliveryId, integration, receivedAt, fields, params, 0, false, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("deliveryId", deliveryId)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("fields", fields)
        .put("params", params)
        .put("attempts", attempts)
        .put("uncertain", uncertain);
    if (firstFailedAt != null) {
      json.put("firstFailedAt", firstFailedAt.toString());
    }
    return json;
  }

  public static LeadCommand fromJson(JsonObject json) {
    String firstFailedAt = json.getString("firstFailedAt");
    return new LeadCommand(
        json.getString("deliveryId"),
        json.getString("integration"),
        Instant.parse(json.getString("receivedAt")),
        json.getJsonObject("fields"),
        json.getJsonObject("params", new JsonObject()),
        json.getInteger("attempts", 0),
        json.getBoolean("uncertain", false),
        firstFailedAt == null ? null : Instant.parse(firstFailedAt));
  }

  /** The body of a crm.lead.add call. */
  public JsonObject addRequestBody() {
    return new JsonObject().put("fields", fields).put("params", params);
  }

  /** The ORIGINATOR_ID the lead carries, to look it up by. */
  public String originatorId() {
    return fields.getString("ORIGINATOR_ID");
  }
}
