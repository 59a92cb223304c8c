package io.leadrelay.mapping;

import io.leadrelay.ExactJson;
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

  /**
   * The command as a bus message, which may cross nodes: fields and params travel as exact JSON text, so that
   * {@code "OPPORTUNITY": 9000.00} reaches Bitrix24 as 9000.00 whichever node sends it.
   */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("deliveryId", deliveryId)
        .put("integration", integration)
        .put("receivedAt", receivedAt.toString())
        .put("fields", ExactJson.encode(fields))
        .put("params", ExactJson.encode(params))
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
        ExactJson.objectOf(json.getValue("fields")),
        json.containsKey("params") ? ExactJson.objectOf(json.getValue("params")) : new JsonObject(),
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
