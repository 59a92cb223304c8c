package io.leadrelay.store;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One accepted webhook on its way to becoming a lead: what BotHelp sent, for which integration, and when. The id is
 * the delivery's identity everywhere: in the HTTP answer, in every log line and as the lead's ORIGIN_ID in Bitrix24.
 *
 * @param attempts      attempts that counted against the delivery so far (refusals before execution do not count)
 * @param uncertain     an earlier attempt may have created the lead (its answer was lost, or the relay stopped
 *                      mid-call): look the lead up by ORIGIN_ID before adding it again
 * @param firstFailedAt when the current run of failures began, or null; a delivery failing longer than the
 *                      maximum age goes DEAD
 */
public record Delivery(String id, String integration, Instant receivedAt, String remoteAddress, JsonObject payload,
                       int attempts, boolean uncertain, Instant firstFailedAt) {

  /** A delivery that has just been accepted: never attempted. */
  public Delivery(String id, String integration, Instant receivedAt, String remoteAddress, JsonObject payload) {
    this(id, integration, receivedAt, remoteAddress, payload, 0, false, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("remoteAddress", remoteAddress)
        .put("payload", payload)
        .put("attempts", attempts)
        .put("uncertain", uncertain);
    if (firstFailedAt != null) {
      json.put("firstFailedAt", firstFailedAt.toString());
    }
    return json;
  }

  public static Delivery fromJson(JsonObject json) {
    String firstFailedAt = json.getString("firstFailedAt");
    return new Delivery(
        json.getString("id"),
        json.getString("integration"),
        Instant.parse(json.getString("receivedAt")),
        json.getString("remoteAddress"),
        json.getJsonObject("payload"),
        json.getInteger("attempts", 0),
        json.getBoolean("uncertain", false),
        firstFailedAt == null ? null : Instant.parse(firstFailedAt));
  }
}
