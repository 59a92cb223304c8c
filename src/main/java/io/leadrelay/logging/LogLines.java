package io.leadrelay.logging;

import io.leadrelay.bitrix.LeadCreated;
import io.leadrelay.store.Delivery;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Map;

/**
 * The shape of one line in each of the three logs. Every line starts with {@code "time"} so the files read and sort
 * naturally; the rest follows the bus message it came from. Messages are read back through their records so the
 * files keep the records' field order whatever the sender did.
 */
public final class LogLines {

  private LogLines() {
  }

  /** webhook.log: the accepted webhook, timed when it was received (not when it was logged). */
  public static JsonObject webhook(JsonObject deliveryJson) {
    Delivery delivery = Delivery.fromJson(deliveryJson);
    JsonObject line = new JsonObject()
        .put("time", delivery.receivedAt().toString())
        .put("id", delivery.id())
        .put("integration", delivery.integration())
        .put("remoteAddress", delivery.remoteAddress())
        .put("payload", delivery.payload());
    if (deliveryJson.getBoolean("repeat", false)) {
      // The same body again within the repeat window: answered with the first delivery's id, nothing new made.
      line.put("repeat", true);
    }
    return line;
  }

  /** success.log: the lead that was created; in dry-run also the fields of the lead that would have been. */
  public static JsonObject success(JsonObject leadCreatedJson, Instant now) {
    LeadCreated created = LeadCreated.fromJson(leadCreatedJson);
    JsonObject line = new JsonObject()
        .put("time", now.toString())
        .put("id", created.deliveryId())
        .put("integration", created.integration())
        .put("leadId", created.leadId())
        .put("elapsedMs", created.elapsedMs())
        .put("portal", created.portal());
    if (created.dryRun()) {
      line.put("dryRun", true).put("lead", created.lead());
    }
    if (created.found()) {
      // Not created now: an earlier attempt had created it and its answer was lost.
      line.put("found", true);
    }
    return line;
  }

  /** error.log: a failed delivery or a refused request, with the ErrorEvent's fields in their order. */
  public static JsonObject error(JsonObject errorEventJson, Instant now) {
    JsonObject line = new JsonObject().put("time", now.toString());
    for (Map.Entry<String, Object> field : ErrorEvent.fromJson(errorEventJson).toJson()) {
      line.put(field.getKey(), field.getValue());
    }
    return line;
  }
}
