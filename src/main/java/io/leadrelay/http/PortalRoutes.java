package io.leadrelay.http;

import io.leadrelay.Addresses;
import io.leadrelay.cluster.PortalOwnership;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.Backlog;
import io.leadrelay.store.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin API's portals: {@code GET /admin/portals} (each portal's state, owner node, backlog, oldest pending
 * delivery and request budget) and {@code POST /admin/portals/{integration}/resume} ("Resume now" for a paused
 * portal). Both ask the portal's owner over the bus with {@code request}: in a cluster only the owner knows the
 * portal's state and may change it. Authentication is AdminRoutes' (mounted under it).
 */
final class PortalRoutes {

  /** The owner answers from memory; no answer by then means no node sends for the portal right now. */
  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(3_000);

  private final Vertx vertx;
  private final DeliveryStore store;
  private final Map<String, IntegrationConfig> integrations;

  PortalRoutes(Vertx vertx, DeliveryStore store, Map<String, IntegrationConfig> integrations) {
    this.vertx = vertx;
    this.store = store;
    this.integrations = Map.copyOf(integrations);
  }

  void mount(Router router) {
    router.get("/admin/portals").handler(this::list);
    router.post("/admin/portals/:integration/resume").handler(this::resume);
  }

  /** Portal key to the integrations that deliver there, in name order. */
  private Map<String, List<String>> portals() {
    Map<String, List<String>> portals = new LinkedHashMap<>();
    integrations.keySet().stream().sorted().forEach(name -> integrations.get(name).portal().ifPresent(portal ->
        portals.computeIfAbsent(PortalOwnership.keyOf(portal), key -> new ArrayList<>()).add(name)));
    return portals;
  }

  private void list(RoutingContext ctx) {
    Map<String, List<String>> portals = portals();
    store.backlog().onSuccess(backlogs -> {
      Instant now = Instant.now();
      List<Future<JsonObject>> answers = new ArrayList<>();
      portals.forEach((key, users) -> answers.add(status(key)
          .map(status -> withBacklog(status.put("integrations", new JsonArray(users)), users, backlogs, now))));
      Future.join(answers).onComplete(done -> {
        JsonArray rows = new JsonArray();
        answers.forEach(answer -> rows.add(answer.result()));
        JsonArray dryRun = new JsonArray(integrations.keySet().stream().sorted()
            .filter(name -> integrations.get(name).portal().isEmpty()).toList());
        AdminRoutes.json(ctx, 200, new JsonObject().put("portals", rows).put("dryRun", dryRun));
      });
    }).onFailure(failure -> AdminRoutes.json(ctx, 503,
        AdminRoutes.error("store_unavailable", "The delivery store could not answer; try again.")));
  }

  /** The owner's answer, or a row saying nobody answers (between owners, or the owner is busy or gone). */
  private Future<JsonObject> status(String key) {
    return vertx.eventBus().<JsonObject>request(Addresses.portalAdmin(key), new JsonObject().put("action", "status"),
            ASK)
        .map(reply -> reply.body())
        .otherwise(failure -> new JsonObject().put("portal", key).put("state", "unknown").put("owner", null)
            .put("reason", noOwner(failure)));
  }

  private static JsonObject withBacklog(JsonObject status, List<String> users, List<Backlog> backlogs, Instant now) {
    long pending = 0;
    long dead = 0;
    Instant oldest = null;
    for (Backlog backlog : backlogs) {
      if (users.contains(backlog.integration())) {
        pending += backlog.pending();
        dead += backlog.dead();
        Instant at = backlog.oldestPendingReceivedAt();
        if (at != null && (oldest == null || at.isBefore(oldest))) {
          oldest = at;
        }
      }
    }
    return status.put("backlog", pending).put("dead", dead)
        .put("oldestPendingAt", oldest == null ? null : oldest.toString())
        .put("oldestPendingAgeSeconds", oldest == null ? null : Duration.between(oldest, now).toSeconds());
  }

  private void resume(RoutingContext ctx) {
    String name = ctx.pathParam("integration");
    IntegrationConfig integration = integrations.get(name);
    if (integration == null) {
      AdminRoutes.json(ctx, 404, AdminRoutes.error("not_found", "No integration named '"
          + PayloadParser.abbreviate(name) + "'."));
      return;
    }
    PortalConfig portal = integration.portal().orElse(null);
    if (portal == null) {
      AdminRoutes.json(ctx, 400, AdminRoutes.error("bad_request", "Integration '" + name
          + "' runs dry: it has no portal to resume."));
      return;
    }
    String key = PortalOwnership.keyOf(portal);
    vertx.eventBus().<JsonObject>request(Addresses.portalAdmin(key), new JsonObject().put("action", "resume"), ASK)
        .onSuccess(reply -> {
          JsonObject status = reply.body();
          if (!status.getBoolean("resumed", false)) {
            AdminRoutes.json(ctx, 409, AdminRoutes.error("not_paused", "Portal " + status.getString("address")
                + " is not paused (" + status.getString("state") + "): there is nothing to resume.")
                .put("portal", status));
            return;
          }
          AdminRoutes.audit(ctx, "resumed portal " + key, 1);
          AdminRoutes.json(ctx, 200, new JsonObject().put("ok", true).put("portal", status).put("message",
              "The next waiting lead goes now as a probe; when it gets through, every waiting lead follows. If the"
                  + " portal still fails, it stays paused with the new reason."));
        })
        .onFailure(failure -> AdminRoutes.json(ctx, 503, AdminRoutes.error("no_owner", noOwner(failure))));
  }

  private static String noOwner(Throwable failure) {
    boolean nobody = failure instanceof ReplyException reply && (reply.failureType() == ReplyFailure.NO_HANDLERS
        || reply.failureType() == ReplyFailure.TIMEOUT);
    return nobody ? "No node answers for this portal right now (it is changing owners, or its owner is busy);"
        + " try again in a few seconds." : "The portal's owner refused: " + failure.getMessage();
  }
}
