package io.leadrelay.ops;

import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Objects;

/**
 * Something wrong with the relay right now, in plain words for the person who has to fix it: what kind of problem,
 * which integration it concerns (null: the whole node), why, and since when. Never holds a secret or subscriber
 * data: the reasons are built from error classes and codes, counts and times.
 *
 * @param since when it began, if known (null: not known, e.g. a part that does not answer)
 */
public record Condition(Kind kind, String integration, Severity severity, String reason, Instant since) {

  /** What a condition does to the node's health. */
  public enum Severity {
    /** Webhooks are still accepted and kept, but some leads wait: HTTP 200, so load balancers keep sending. */
    DEGRADED,
    /** The node cannot accept webhooks safely: HTTP 503, and it is not ready. */
    DOWN
  }

  public enum Kind {
    /** The portal refused in a way only a person can fix (wrong webhook code, OAuth refused, payment required). */
    PORTAL_PAUSED,
    /** Leads wait and none has been delivered for longer than the stall threshold. */
    PORTAL_NOT_DELIVERING,
    /** The oldest waiting lead is older than the backlog-age threshold. */
    BACKLOG_OLD,
    /** The delivery store cannot keep what it is given. */
    STORE_FAILING,
    /** The log directory cannot be written (DOWN), or lines are being dropped (DEGRADED). */
    LOGS_FAILING,
    /** A part of the relay (mapping, Bitrix24 delivery) did not answer the health check. */
    PART_NOT_ANSWERING
  }

  public Condition {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(reason, "reason");
  }

  /** Identifies the condition while it lasts: one alert per key until it clears. */
  public String key() {
    return integration == null ? kind.name() : kind.name() + ":" + integration;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("condition", kind.name());
    if (integration != null) {
      json.put("integration", integration);
    }
    json.put("severity", severity.name()).put("reason", reason);
    if (since != null) {
      json.put("since", since.toString());
    }
    return json;
  }

  public static Condition fromJson(JsonObject json) {
    String since = json.getString("since");
    return new Condition(Kind.valueOf(json.getString("condition")), json.getString("integration"),
        Severity.valueOf(json.getString("severity")), json.getString("reason"),
        since == null ? null : Instant.parse(since));
  }
}
