package io.leadrelay.ops;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything the conditions are judged from, as the relay's parts answered the health check: each integration's
 * portal, the store, the logs, and the other parts (mapping, Bitrix24 delivery) only as "answered or not".
 */
public record RelaySnapshot(List<PortalSnapshot> portals, PartHealth store, PartHealth logs, List<PartHealth> others) {

  /** The other parts whose silence is a condition; the store and logs have their own. */
  private static final List<String> OTHER_PARTS = List.of("mapping", "bitrix");

  /** From the {@code parts} object of /health ({@link io.leadrelay.Addresses} HEALTH_* answers by part name). */
  public static RelaySnapshot fromParts(JsonObject parts) {
    List<PortalSnapshot> portals = new ArrayList<>();
    JsonObject bitrix = parts.getJsonObject("bitrix");
    JsonObject entries = bitrix == null ? null : bitrix.getJsonObject("portals");
    if (entries != null) {
      for (String integration : entries.fieldNames()) {
        portals.add(PortalSnapshot.fromHealth(integration, entries.getJsonObject(integration)));
      }
    }
    List<PartHealth> others = OTHER_PARTS.stream()
        .map(name -> PartHealth.fromJson(name, parts.getJsonObject(name))).toList();
    return new RelaySnapshot(portals, PartHealth.fromJson("store", parts.getJsonObject("store")),
        PartHealth.fromJson("logs", parts.getJsonObject("logs")), others);
  }
}
