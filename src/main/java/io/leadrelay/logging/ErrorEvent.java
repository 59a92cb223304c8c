package io.leadrelay.logging;

import io.vertx.core.json.JsonObject;

/**
 * Something was refused or failed, for error.log. {@code stage} says where ("http", "mapping", "bitrix"),
 * {@code error} is a short machine code, {@code reason} one sentence for a person. The Bitrix24 part
 * ({@code errorClass}, {@code httpStatus}, {@code bitrixCode}) is null where it does not apply.
 * {@code next} says what happens to the delivery now ("retry at ...", "dead", "waiting for the portal"), or null.
 * Never put a secret (webhook secret, Bitrix24 webhook code, token) in any of these fields.
 */
public record ErrorEvent(String stage, String deliveryId, String integration, String error, String reason,
                         String errorClass, Integer httpStatus, String bitrixCode, String remoteAddress,
                         String next) {

  public ErrorEvent(String stage, String deliveryId, String integration, String error, String reason,
                    String errorClass, Integer httpStatus, String bitrixCode, String remoteAddress) {
    this(stage, deliveryId, integration, error, reason, errorClass, httpStatus, bitrixCode, remoteAddress, null);
  }

  public static ErrorEvent refused(String integration, String error, String reason, int httpStatus,
                                   String remoteAddress) {
    return new ErrorEvent("http", null, integration, error, reason, null, httpStatus, null, remoteAddress);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("stage", stage);
    putIfPresent(json, "deliveryId", deliveryId);
    putIfPresent(json, "integration", integration);
    json.put("error", error).put("reason", reason);
    putIfPresent(json, "errorClass", errorClass);
    putIfPresent(json, "httpStatus", httpStatus);
    putIfPresent(json, "bitrixCode", bitrixCode);
    putIfPresent(json, "remoteAddress", remoteAddress);
    putIfPresent(json, "next", next);
    return json;
  }

  public static ErrorEvent fromJson(JsonObject json) {
    return new ErrorEvent(
        json.getString("stage"),
        json.getString("deliveryId"),
        json.getString("integration"),
        json.getString("error"),
        json.getString("reason"),
        json.getString("errorClass"),
        json.getInteger("httpStatus"),
        json.getString("bitrixCode"),
        json.getString("remoteAddress"),
        json.getString("next"));
  }

  private static void putIfPresent(JsonObject json, String key, Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }
}
