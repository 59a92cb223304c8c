package io.leadrelay.ops;

import io.leadrelay.Addresses;
import io.leadrelay.cluster.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Asks every part of the relay for its health over the bus, and judges the answers with {@link RelayConditions}:
 * DOWN only when the node cannot keep what it accepts (the store or the log directory unusable), DEGRADED while
 * any other condition holds (a portal paused or not delivering, a backlog too old, a part silent): the relay still
 * accepts and keeps every webhook, but some leads wait. Each condition is listed with its reason in plain words.
 * {@code /health} shows it and the alerts watch it, so both always tell the same.
 */
public final class HealthReport {

  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(2000).setLocalOnly(true);
  private static final Map<String, String> PARTS = new LinkedHashMap<>();
  /** What the node needs to accept a webhook: somewhere to keep it, and somewhere to log it. */
  private static final Map<String, String> ACCEPTING_PARTS = new LinkedHashMap<>();

  static {
    PARTS.put("mapping", Addresses.HEALTH_MAPPING);
    PARTS.put("bitrix", Addresses.HEALTH_BITRIX);
    PARTS.put("logs", Addresses.HEALTH_LOGS);
    PARTS.put("store", Addresses.HEALTH_STORE);
    ACCEPTING_PARTS.put("logs", Addresses.HEALTH_LOGS);
    ACCEPTING_PARTS.put("store", Addresses.HEALTH_STORE);
  }

  /** The whole report: status, conditions, each part's answer and the cluster view. */
  public record Checked(String status, List<Condition> conditions, JsonObject parts, JsonObject cluster) {

    public JsonObject toJson() {
      return new JsonObject().put("status", status)
          .put("conditions", new JsonArray(conditions.stream().map(Condition::toJson).toList()))
          .put("parts", parts).put("cluster", cluster);
    }
  }

  private final Vertx vertx;
  private final RelayConditions conditions;
  private final Clock clock;

  public HealthReport(Vertx vertx, RelayConditions conditions, Clock clock) {
    this.vertx = vertx;
    this.conditions = conditions;
    this.clock = clock;
  }

  /** Always succeeds: DOWN if any condition is, else DEGRADED if any condition holds, else UP. */
  public Future<Checked> check() {
    Future<JsonObject> parts = askAll(PARTS);
    Future<JsonObject> cluster = cluster();
    return Future.join(parts, cluster).transform(ignored -> {
      JsonObject answers = new JsonObject().put("http", new JsonObject().put("status", "UP"));
      answers.mergeIn(parts.result());
      List<Condition> holding = conditions.evaluate(RelaySnapshot.fromParts(answers), clock.instant());
      return Future.succeededFuture(new Checked(statusOf(holding), holding, answers, cluster.result()));
    });
  }

  /**
   * Whether this node can accept webhooks now (for load balancers and Kubernetes readiness): only the store and the
   * logs are asked, so that a slow portal or a busy sender never takes a node out of rotation.
   */
  public Future<Checked> readiness() {
    return askAll(ACCEPTING_PARTS).map(answers -> {
      RelaySnapshot snapshot = new RelaySnapshot(List.of(), PartHealth.fromJson("store", answers.getJsonObject(
          "store")), PartHealth.fromJson("logs", answers.getJsonObject("logs")), List.of());
      List<Condition> down = conditions.evaluate(snapshot, clock.instant()).stream()
          .filter(condition -> condition.severity() == Condition.Severity.DOWN).toList();
      return new Checked(down.isEmpty() ? "UP" : "DOWN", down, answers, null);
    });
  }

  private static String statusOf(List<Condition> holding) {
    if (holding.stream().anyMatch(condition -> condition.severity() == Condition.Severity.DOWN)) {
      return "DOWN";
    }
    return holding.isEmpty() ? "UP" : "DEGRADED";
  }

  private Future<JsonObject> askAll(Map<String, String> parts) {
    List<String> names = List.copyOf(parts.keySet());
    List<Future<JsonObject>> answers = names.stream().map(name -> ask(parts.get(name))).toList();
    return Future.join(answers).transform(ignored -> {
      JsonObject all = new JsonObject();
      for (int i = 0; i < names.size(); i++) {
        all.put(names.get(i), answers.get(i).result());
      }
      return Future.succeededFuture(all);
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
        .otherwise(failure -> new JsonObject().put("status", "DOWN").put("answered", false)
            .put("reason", "no answer: " + failure.getMessage()));
  }
}
