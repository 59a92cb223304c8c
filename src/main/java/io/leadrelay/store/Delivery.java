package io.leadrelay.store;

import io.leadrelay.ExactJson;
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

  /**
   * The delivery as a bus message. The payload travels as its exact JSON text, so that a decimal such as
   * {@code 9000.00} survives the clustered bus (whose JSON decoder would read it as a double) unchanged.
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("remoteAddress", remoteAddress)
        .put("payload", payload == null ? null : ExactJson.encode(payload))
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
        ExactJson.objectOf(json.getValue("payload")),
        json.getInteger("attempts", 0),
        json.getBoolean("uncertain", false),
        firstFailedAt == null ? null : Instant.parse(firstFailedAt));
  }
}
