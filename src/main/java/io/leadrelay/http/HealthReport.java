package io.leadrelay.http;

import io.leadrelay.Addresses;
import io.leadrelay.cluster.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks every part of the relay for its health over the bus and combines the answers. A part that does not answer
 * within the timeout is DOWN, and so is the whole relay: it cannot turn webhooks into leads. A DEGRADED part (a
 * paused portal) makes the relay DEGRADED: it still accepts and keeps every webhook, but some leads are waiting.
 */
final class HealthReport {

  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(2000).setLocalOnly(true);
  private static final Map<String, String> PARTS = new LinkedHashMap<>();

  static {
    PARTS.put("mapping", Addresses.HEALTH_MAPPING);
    PARTS.put("bitrix", Addresses.HEALTH_BITRIX);
    PARTS.put("logs", Addresses.HEALTH_LOGS);
    PARTS.put("store", Addresses.HEALTH_STORE);
  }

  private final Vertx vertx;

  HealthReport(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Always succeeds: {@code status} DOWN if any part is DOWN, else DEGRADED if any is DEGRADED, else UP. */
  Future<JsonObject> check() {
    List<String> names = List.copyOf(PARTS.keySet());
    List<Future<JsonObject>> answers = names.stream().map(name -> ask(PARTS.get(name))).toList();
    Future<JsonObject> cluster = cluster();
    return Future.join(Future.join(answers), cluster).transform(ignored -> {
      JsonObject parts = new JsonObject().put("http", new JsonObject().put("status", "UP"));
      String status = "UP";
      for (int i = 0; i < names.size(); i++) {
        JsonObject part = answers.get(i).result();
        parts.put(names.get(i), part);
        String partStatus = part.getString("status");
        if ("DEGRADED".equals(partStatus) && status.equals("UP")) {
          status = "DEGRADED";
        } else if (!"UP".equals(partStatus) && !"DEGRADED".equals(partStatus)) {
          status = "DOWN";
        }
      }
      return Future.succeededFuture(new JsonObject().put("status", status).put("parts", parts)
          .put("cluster", cluster.result()));
    });
  }

  /**
   * Which node owns which portal. Only a node on a shared store answers; with nobody to answer, this is a single
   * node that owns every portal. Informative: it does not change the status (the parts say whether leads flow).
   */
  private Future<JsonObject> cluster() {
    return vertx.eventBus().<JsonObject>request(Addresses.HEALTH_CLUSTER, new JsonObject(), ASK)
        .map(reply -> reply.body())
        .otherwise(failure -> failure instanceof ReplyException refused
            && refused.failureType() == ReplyFailure.NO_HANDLERS ? ClusterView.single()
            : new JsonObject().put("status", "DOWN").put("reason", "no answer: " + failure.getMessage()));
  }

  private Future<JsonObject> ask(String address) {
    return vertx.eventBus().<JsonObject>request(address, new JsonObject(), ASK)
        .map(reply -> reply.body())
        .otherwise(failure -> new JsonObject().put("status", "DOWN").put("reason", "no answer: " + failure.getMessage()));
  }
}
