package io.leadrelay.bitrix;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What the health check tells about one integration's deliveries: the last success and the last failure.
 * Not thread-safe: updated and read on the owning verticle's event loop only.
 */
final class IntegrationStatus {

  private Instant lastSuccessAt;
  private BitrixError lastError;
  private Instant lastErrorAt;

  void succeeded(Instant at) {
    lastSuccessAt = at;
  }

  void failed(BitrixError error, Instant at) {
    lastError = error;
    lastErrorAt = at;
  }

  /**
   * The health entry; {@code portal} is the masked URL (null in dry-run), {@code queue} the portal's queue
   * (null in dry-run), shared with any other integration that uses the same webhook.
   */
  JsonObject toJson(String portal, PortalQueue queue) {
    JsonObject error = null;
    if (lastError != null) {
      error = new JsonObject()
          .put("class", lastError.errorClass().name())
          .put("code", lastError.code())
          .put("description", lastError.description())
          .put("at", lastErrorAt.toString());
    }
    return new JsonObject()
        .put("mode", queue == null ? "dry-run" : "webhook")
        .put("portal", portal)
        .put("queued", queue == null ? 0 : queue.queued())
        .put("inFlight", queue == null ? 0 : queue.inFlight())
        .put("lastSuccessAt", lastSuccessAt == null ? null : lastSuccessAt.toString())
        .put("lastError", error);
  }
}
