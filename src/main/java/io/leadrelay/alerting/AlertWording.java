package io.leadrelay.alerting;

import io.leadrelay.ops.Condition;
import io.leadrelay.ops.Durations;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;

/** What each alert says. Subjects start with "[LeadRelay]" so that mail filters and chat searches find them. */
final class AlertWording {

  private static final String PREFIX = "[LeadRelay] ";

  /** The admin page's base ("" for a relative link). */
  private final String adminBase;
  /** This node's name on a shared store, where every node alerts its own node-wide conditions; null: one node. */
  private final String node;

  AlertWording(String adminUrl, String node) {
    this.adminBase = adminUrl == null ? "" : adminUrl;
    this.node = node;
  }

  Alert raised(Condition condition) {
    return new Alert(condition.integration(), PREFIX + title(condition) + about(condition),
        condition.reason() + "\nHealth: " + condition.severity()
            + (condition.since() == null ? "" : ", since " + condition.since())
            + ". A message follows when it is over.");
  }

  Alert recovered(Condition condition, Instant now) {
    String lasted = condition.since() == null ? ""
        : " after " + Durations.words(Duration.between(condition.since(), now));
    return new Alert(condition.integration(), PREFIX + "Resolved: " + title(condition) + about(condition),
        "This is over" + lasted + ". It was: " + condition.reason());
  }

  Alert dead(DeadDelivery dead) {
    return new Alert(dead.integration(), PREFIX + "Delivery " + dead.deliveryId() + " is DEAD"
        + (dead.integration() == null ? "" : " (integration " + dead.integration() + ")"),
        "Delivery " + dead.deliveryId() + " will not become a lead by itself: " + dead.why()
            + "\nWhy in full, and Replay once fixed: " + adminBase + "/admin/#/deliveries/" + dead.deliveryId());
  }

  Alert digest(String integration, int count, int alertedOneByOne, Duration period) {
    return new Alert(integration, PREFIX + count + " more DEAD deliveries"
        + (integration == null ? "" : " (integration " + integration + ")"),
        count + " more deliveries" + (integration == null ? "" : " of integration " + integration)
            + " went DEAD in the last " + Durations.words(period) + " (the first " + alertedOneByOne
            + " were alerted one by one). See them all: " + adminBase + "/admin/#/deliveries?state=DEAD"
            + (integration == null ? "" : "&integration=" + integration));
  }

  Alert suppressed(String integration, Map<String, Integer> byWhat, int maxPerHour) {
    int total = byWhat.values().stream().mapToInt(Integer::intValue).sum();
    String kinds = byWhat.entrySet().stream().map(e -> e.getValue() + " " + e.getKey())
        .collect(Collectors.joining(", "));
    return new Alert(integration, PREFIX + total + " alerts suppressed",
        total + " alerts were not sent in the last hour, past the limit of " + maxPerHour + " an hour"
            + " (ALERT_MAX_PER_HOUR): " + kinds + ". /health and the admin page show what holds now.");
  }

  private static String title(Condition condition) {
    return switch (condition.kind()) {
      case PORTAL_PAUSED -> "Bitrix24 portal paused";
      case PORTAL_NOT_DELIVERING -> "Leads are not reaching Bitrix24";
      case BACKLOG_OLD -> "Leads waiting too long";
      case STORE_FAILING -> "Delivery store failing, webhooks refused";
      case LOGS_FAILING -> "Log directory failing";
      case PART_NOT_ANSWERING -> "A part of the relay is not answering";
    };
  }

  private String about(Condition condition) {
    if (condition.integration() != null) {
      return " (integration " + condition.integration() + ")";
    }
    return node == null ? "" : " on node " + node;
  }
}
