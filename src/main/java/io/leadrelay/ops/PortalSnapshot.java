package io.leadrelay.ops;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What the health check knows about one integration's deliveries at one moment, as the Bitrix24 part reports it.
 *
 * @param portal                  the portal's masked address; null in dry-run
 * @param pausedReason            why the portal is paused (error class and code, no Bitrix24 text); null: not paused
 * @param backlog                 deliveries waiting (PENDING)
 * @param oldestPendingReceivedAt when the oldest waiting one arrived; null: none waits
 * @param lastProgressAt          the last lead delivered to the portal (or when watching began)
 * @param stalledSince            since when leads have waited with none delivered, past the stall threshold; null: not
 * @param ownedHere               whether this node sends for the portal (always, on a single node)
 */
public record PortalSnapshot(String integration, String portal, String pausedReason, Instant pausedSince,
                             long backlog, Instant oldestPendingReceivedAt, Instant lastProgressAt,
                             Instant stalledSince, boolean ownedHere) {

  public boolean paused() {
    return pausedReason != null;
  }

  /** From one entry of the Bitrix24 part's {@code portals} in /health. */
  public static PortalSnapshot fromHealth(String integration, JsonObject entry) {
    boolean paused = "paused".equals(entry.getString("state"));
    return new PortalSnapshot(integration, entry.getString("portal"),
        paused ? entry.getString("reason", "paused") : null,
        paused ? instant(entry, "pausedSince") : null,
        entry.getLong("backlog", 0L),
        instant(entry, "oldestPendingAt"),
        instant(entry, "lastProgressAt"),
        instant(entry, "stalledSince"),
        entry.getBoolean("ownedHere", true));
  }

  private static Instant instant(JsonObject json, String key) {
    String value = json.getString(key);
    return value == null ? null : Instant.parse(value);
  }
}
