package io.leadrelay.store;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/**
 * Everything the store knows about one delivery, for the admin API and the command line. {@code history} is empty
 * in listings and filled by {@link DeliveryStore#find}.
 *
 * @param attemptsMade      every attempt made, one per history row (refusals before execution included), where
 *                          the delivery's own {@code attempts} counts only those that move its backoff on
 * @param unreadablePayload the stored text when it cannot be read back as a payload (then the delivery's payload is
 *                          null), for an operator to recover the lead by hand; null otherwise
 */
public record DeliveryRecord(Delivery delivery, DeliveryState state, Instant nextAttemptAt, Instant leaseUntil,
                             Long leadId, String lastError, Instant updatedAt, Instant deliveredAt,
                             JsonObject lastFields, List<Attempt> history, int attemptsMade,
                             String unreadablePayload) {

  public JsonObject toJson() {
    Delivery d = delivery;
    JsonObject json = new JsonObject()
        .put("id", d.id())
        .put("integration", d.integration())
        .put("state", state.name())
        .put("receivedAt", d.receivedAt().toString())
        .put("remoteAddress", d.remoteAddress())
        .put("attempts", attemptsMade)
        .put("countedAttempts", d.attempts())
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
    JsonObject json = toJson().put("payload", delivery.payload());
    if (unreadablePayload != null) {
      json.put("unreadablePayload", unreadablePayload);
    }
    return json
        .put("lastFields", lastFields)
        .put("history", new JsonArray(history.stream().map(Attempt::toJson).toList()));
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
