package io.leadrelay.store;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One accepted webhook: what BotHelp sent, for which integration, and when. The id is the delivery's identity
 * everywhere: in the HTTP answer, in every log line and as the lead's ORIGIN_ID in Bitrix24.
 */
public record Delivery(String id, String integration, Instant receivedAt, String remoteAddress, JsonObject payload) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("remoteAddress", remoteAddress)
        .put("payload", payload);
  }

  public static Delivery fromJson(JsonObject json) {
    return new Delivery(
        json.getString("id"),
        json.getString("integration"),
        Instant.parse(json.getString("receivedAt")),
        json.getString("remoteAddress"),
        json.getJsonObject("payload"));
  }
}
