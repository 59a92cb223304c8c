package io.leadrelay.bitrix;

import io.vertx.core.json.JsonObject;

/**
 * A delivery's lead exists in Bitrix24 ({@code leadId}), or in dry-run would have been created ({@code leadId}
 * null, {@code lead} holding the fields that would have been sent). {@code portal} is the masked portal address.
 * {@code found}: the lead already existed (an earlier attempt created it but its answer was lost) and was found by
 * its ORIGIN_ID instead of being created twice.
 */
public record LeadCreated(String deliveryId, String integration, Long leadId, boolean dryRun, long elapsedMs,
                          String portal, JsonObject lead, boolean found) {

  public LeadCreated(String deliveryId, String integration, Long leadId, boolean dryRun, long elapsedMs,
                     String portal, JsonObject lead) {
    this(deliveryId, integration, leadId, dryRun, elapsedMs, portal, lead, false);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("deliveryId", deliveryId)
        .put("integration", integration)
        .put("leadId", leadId)
        .put("dryRun", dryRun)
        .put("elapsedMs", elapsedMs)
        .put("portal", portal);
    if (lead != null) {
      json.put("lead", lead);
    }
    if (found) {
      json.put("found", true);
    }
    return json;
  }

  public static LeadCreated fromJson(JsonObject json) {
    return new LeadCreated(
        json.getString("deliveryId"),
        json.getString("integration"),
        json.getLong("leadId"),
        json.getBoolean("dryRun", false),
        json.getLong("elapsedMs", 0L),
        json.getString("portal"),
        json.getJsonObject("lead"),
        json.getBoolean("found", false));
  }
}
