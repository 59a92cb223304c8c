package io.leadrelay.bitrix;

import io.leadrelay.config.PortalConfig;
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
   * The health entry; {@code portal} is null in dry-run, {@code queue} the portal's queue (null in dry-run), shared
   * with any other integration that uses the same portal. The last error is told by class and code only: Bitrix24's
   * text can quote the lead's data, and /health is not protected (the text is in error.log and the admin API).
   */
  JsonObject toJson(PortalConfig portal, PortalQueue queue) {
    JsonObject error = null;
    if (lastError != null) {
      error = new JsonObject()
          .put("class", lastError.errorClass().name())
          .put("httpStatus", lastError.httpStatus())
          .put("code", lastError.code())
          .put("at", lastErrorAt.toString());
    }
    return new JsonObject()
        .put("mode", portal == null ? "dry-run" : portal.oauth() != null ? "oauth" : "webhook")
        .put("portal", portal == null ? null : portal.masked())
        .put("queued", queue == null ? 0 : queue.queued())
        .put("inFlight", queue == null ? 0 : queue.inFlight())
        .put("lastSuccessAt", lastSuccessAt == null ? null : lastSuccessAt.toString())
        .put("lastError", error);
  }
}
