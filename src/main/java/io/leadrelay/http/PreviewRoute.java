package io.leadrelay.http;

import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.mapping.LeadMapper;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code POST /admin/preview/{integration}}: the dry run of a webhook body. It is read by the webhook's own parser
 * (JSON or form, the same limits, the same refusals) and mapped with the integration's current mapping, and the
 * answer is the crm.lead.add body the relay would send; nothing is stored or sent.
 */
final class PreviewRoute {

  /** Stands in for the delivery id a real webhook would get (the lead's ORIGIN_ID). */
  static final String PREVIEW_ID = "PREVIEW";

  private final Map<String, LeadMapper> mappers = new HashMap<>();

  PreviewRoute(Map<String, IntegrationConfig> integrations) {
    integrations.forEach((name, integration) -> mappers.put(name, new LeadMapper(integration.mapping())));
  }

  void handle(RoutingContext ctx) {
    String name = ctx.pathParam("integration");
    LeadMapper mapper = mappers.get(name);
    if (mapper == null) {
      AdminRoutes.json(ctx, 404, AdminRoutes.error("not_found", "No integration named '"
          + PayloadParser.abbreviate(name) + "'."));
      return;
    }
    JsonObject payload;
    try {
      String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
      PayloadParser.checkContentType(contentType);
      payload = PayloadParser.parse(contentType, ctx.body().buffer() == null ? new byte[0]
          : ctx.body().buffer().getBytes());
    } catch (Refusal refusal) {
      AdminRoutes.json(ctx, refusal.status(), refusal.toJson());
      return;
    }
    AdminRoutes.audit(ctx, "previewed a lead for integration " + name, 1);
    AdminRoutes.json(ctx, 200, new JsonObject()
        .put("ok", true)
        .put("integration", name)
        .put("payload", payload)
        .put("lead", new JsonObject().put("fields", mapper.fields(payload, PREVIEW_ID)).put("params",
            mapper.params())));
  }
}
