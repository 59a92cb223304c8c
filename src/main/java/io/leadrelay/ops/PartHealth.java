package io.leadrelay.ops;

import io.vertx.core.json.JsonObject;

/**
 * One part's answer to the health check (store, logs, mapping, Bitrix24 delivery).
 *
 * @param answered false when the part did not answer in time
 */
public record PartHealth(String name, String status, String reason, boolean answered) {

  public static PartHealth up(String name) {
    return new PartHealth(name, "UP", null, true);
  }

  public static PartHealth fromJson(String name, JsonObject json) {
    if (json == null) {
      return new PartHealth(name, "DOWN", "no answer", false);
    }
    return new PartHealth(name, json.getString("status", "DOWN"), json.getString("reason"),
        json.getBoolean("answered", true));
  }

  boolean down() {
    return !"UP".equals(status) && !"DEGRADED".equals(status);
  }

  boolean degraded() {
    return "DEGRADED".equals(status);
  }
}
