package io.leadrelay.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/**
 * Everything the store knows about one delivery, for the admin API and the command line. {@code history} is empty
 * in listings and filled by {@link DeliveryStore#find}.
 */
public record DeliveryRecord(Delivery delivery, DeliveryState state, Instant nextAttemptAt, Instant leaseUntil,
                             Long leadId, String lastError, Instant updatedAt, Instant deliveredAt,
                             JsonObject lastFields, List<Attempt> history) {

  public JsonObject toJson() {
    Delivery d = delivery;
    JsonObject json = new JsonObject()
        .put("id", d.id())
        .put("integration", d.integration())
        .put("state", state.name())
        .put("receivedAt", d.receivedAt().toString())
        .put("remoteAddress", d.remoteAddress())
        .put("attempts", d.attempts())
        .put("uncertain", d.uncertain())
        .put("nextAttemptAt", text(nextAttemptAt))
        .put("leaseUntil", text(leaseUntil))
        .put("firstFailedAt", text(d.firstFailedAt()))
        .put("leadId", leadId)
        .put("lastError", lastError)
        .put("updatedAt", text(updatedAt))
        .put("deliveredAt", text(deliveredAt));
    return json;
  }

  /** The full view: the summary plus the payload, the last mapped fields and the attempt history. */
  public JsonObject toDetailJson() {
    return toJson()
        .put("payload", delivery.payload())
        .put("lastFields", lastFields)
        .put("history", new JsonArray(history.stream().map(Attempt::toJson).toList()));
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
