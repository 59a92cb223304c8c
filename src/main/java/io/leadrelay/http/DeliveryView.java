package io.leadrelay.http;

import io.leadrelay.cluster.PortalOwnership;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.store.DeliveryRecord;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * What the admin page shows of a delivery beyond the stored record: who the subscriber is (name, phone, e-mail as
 * they arrived) and the link to the lead in the portal. The link is built from the portal's address without any
 * path, so a webhook code can never be in it.
 */
final class DeliveryView {

  private final Map<String, IntegrationConfig> integrations;

  DeliveryView(Map<String, IntegrationConfig> integrations) {
    this.integrations = Map.copyOf(integrations);
  }

  /** A listing row: the summary, the subscriber and the lead's link. */
  JsonObject row(DeliveryRecord record) {
    return withLinks(record, record.toJson());
  }

  /** The detail: everything stored, the subscriber and the lead's link. */
  JsonObject detail(DeliveryRecord record) {
    return withLinks(record, record.toDetailJson());
  }

  private JsonObject withLinks(DeliveryRecord record, JsonObject json) {
    return json.put("subscriber", subscriber(record.delivery().payload()))
        .put("leadUrl", leadUrl(record.delivery().integration(), record.leadId()));
  }

  /** {@code https://<portal host>/crm/lead/details/<id>/}, or null without a lead or a known portal. */
  String leadUrl(String integration, Long leadId) {
    IntegrationConfig config = integrations.get(integration);
    if (leadId == null || config == null || config.portal().isEmpty()) {
      return null;
    }
    return PortalOwnership.keyOf(config.portal().get()) + "/crm/lead/details/" + leadId + "/";
  }

  static JsonObject subscriber(JsonObject payload) {
    JsonObject subscriber = new JsonObject();
    if (payload == null) {
      return subscriber;
    }
    String name = text(payload.getValue("name"));
    if (name == null) {
      String joined = ((orEmpty(payload.getValue("first_name")) + " " + orEmpty(payload.getValue("last_name")))).trim();
      name = joined.isEmpty() ? null : joined;
    }
    return subscriber.put("name", name)
        .put("phone", text(payload.getValue("phone")))
        .put("email", text(payload.getValue("email")));
  }

  private static String orEmpty(Object value) {
    String text = text(value);
    return text == null ? "" : text;
  }

  private static String text(Object value) {
    if (!(value instanceof String) && !(value instanceof Number)) {
      return null;
    }
    String text = value.toString().trim();
    return text.isEmpty() ? null : text;
  }
}
