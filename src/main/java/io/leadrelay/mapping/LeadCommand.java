package io.leadrelay.mapping;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * A lead ready to be created: the Bitrix24 {@code fields} and {@code params} of crm.lead.add for one delivery.
 */
public record LeadCommand(String deliveryId, String integration, Instant receivedAt, JsonObject fields,
                          JsonObject params) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("deliveryId", deliveryId)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("fields", fields)
        .put("params", params);
  }

  public static LeadCommand fromJson(JsonObject json) {
    return new LeadCommand(
        json.getString("deliveryId"),
        json.getString("integration"),
        Instant.parse(json.getString("receivedAt")),
        json.getJsonObject("fields"),
        json.getJsonObject("params", new JsonObject()));
  }

  /** The body of a crm.lead.add call. */
  public JsonObject addRequestBody() {
    return new JsonObject().put("fields", fields).put("params", params);
  }
}
