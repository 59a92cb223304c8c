package io.leadrelay.http;

import io.leadrelay.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks every part of the relay for its health over the bus and combines the answers. A part that does not answer
 * within the timeout is DOWN, and so is the whole relay: it cannot turn webhooks into leads.
 */
final class HealthReport {

  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(2000).setLocalOnly(true);
  private static final Map<String, String> PARTS = new LinkedHashMap<>();

  static {
    PARTS.put("mapping", Addresses.HEALTH_MAPPING);
    PARTS.put("bitrix", Addresses.HEALTH_BITRIX);
    PARTS.put("logs", Addresses.HEALTH_LOGS);
  }

  private final Vertx vertx;

  HealthReport(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Always succeeds, with {@code status} UP only if every part is UP. */
  Future<JsonObject> check() {
    List<String> names = List.copyOf(PARTS.keySet());
    List<Future<JsonObject>> answers = names.stream().map(name -> ask(PARTS.get(name))).toList();
    return Future.join(answers).transform(ignored -> {
      JsonObject parts = new JsonObject().put("http", new JsonObject().put("status", "UP"));
      boolean up = true;
      for (int i = 0; i < names.size(); i++) {
        JsonObject part = answers.get(i).result();
        parts.put(names.get(i), part);
        up &= "UP".equals(part.getString("status"));
      }
      return Future.succeededFuture(new JsonObject().put("status", up ? "UP" : "DOWN").put("parts", parts));
    });
  }

  private Future<JsonObject> ask(String address) {
    return vertx.eventBus().<JsonObject>request(address, new JsonObject(), ASK)
        .map(reply -> reply.body())
        .otherwise(failure -> new JsonObject().put("status", "DOWN").put("reason", "no answer: " + failure.getMessage()));
  }
}
