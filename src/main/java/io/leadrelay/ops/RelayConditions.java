package io.leadrelay.ops;

import io.leadrelay.ops.Condition.Kind;
import io.leadrelay.ops.Condition.Severity;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Judges which conditions hold, from one snapshot of the relay's parts: the single place that decides what is
 * DEGRADED (leads wait: a portal paused or not delivering, a backlog too old) and what is DOWN (the node cannot keep
 * what it accepts: the store or the log directory unusable). {@code /health} and the alerts both use it, so what a
 * person is told and what the load balancer sees never disagree. Pure: no clock of its own, no I/O.
 */
public final class RelayConditions {

  /** A lead waiting this long is worth a person's attention even while the portal still takes others. */
  public static final Duration DEFAULT_BACKLOG_AGE = Duration.ofMinutes(30);

  private final Duration backlogAge;

  /** @param backlogAge a waiting lead older than this makes BACKLOG_OLD (ALERT_BACKLOG_AGE_SECONDS) */
  public RelayConditions(Duration backlogAge) {
    this.backlogAge = backlogAge;
  }

  /** The conditions holding at {@code now}, node-wide ones first, then by integration in the snapshot's order. */
  public List<Condition> evaluate(RelaySnapshot snapshot, Instant now) {
    List<Condition> conditions = new ArrayList<>();
    PartHealth store = snapshot.store();
    if (store.down()) {
      conditions.add(new Condition(Kind.STORE_FAILING, null, Severity.DOWN, "The delivery store cannot keep"
          + " webhooks (" + reasonOf(store) + "); webhooks are refused with 503 until it is fixed.", null));
    }
    PartHealth logs = snapshot.logs();
    if (logs.down()) {
      conditions.add(new Condition(Kind.LOGS_FAILING, null, Severity.DOWN, "The log directory cannot be written ("
          + reasonOf(logs) + ").", null));
    } else if (logs.degraded()) {
      conditions.add(new Condition(Kind.LOGS_FAILING, null, Severity.DEGRADED, "Log lines are being lost ("
          + reasonOf(logs) + "); leads are still delivered.", null));
    }
    for (PartHealth part : snapshot.others()) {
      if (!part.answered()) {
        conditions.add(new Condition(Kind.PART_NOT_ANSWERING, null, Severity.DEGRADED, "The " + part.name()
            + " part of the relay did not answer the health check in time; webhooks are still accepted.", null));
      }
    }
    for (PortalSnapshot portal : snapshot.portals()) {
      portalConditions(portal, now, conditions);
    }
    return conditions;
  }

  private void portalConditions(PortalSnapshot portal, Instant now, List<Condition> conditions) {
    String name = portal.portal() == null ? "of integration " + portal.integration()
        : portal.portal() + " (integration " + portal.integration() + ")";
    if (portal.paused()) {
      conditions.add(new Condition(Kind.PORTAL_PAUSED, portal.integration(), Severity.DEGRADED,
          "Bitrix24 portal " + name + " is paused: " + portal.pausedReason() + " Its " + portal.backlog()
              + " waiting lead(s) are kept and go once it takes leads again.", portal.pausedSince()));
    } else if (portal.stalledSince() != null) {
      // A paused portal is not delivering either: said once, as the cause a person can act on.
      conditions.add(new Condition(Kind.PORTAL_NOT_DELIVERING, portal.integration(), Severity.DEGRADED,
          "No lead has reached Bitrix24 portal " + name + " since " + portal.stalledSince() + " while "
              + portal.backlog() + " wait; the full errors are in error.log.", portal.stalledSince()));
    }
    Instant oldest = portal.oldestPendingReceivedAt();
    if (oldest != null && Duration.between(oldest, now).compareTo(backlogAge) >= 0) {
      conditions.add(new Condition(Kind.BACKLOG_OLD, portal.integration(), Severity.DEGRADED,
          "The oldest of " + portal.backlog() + " lead(s) waiting for portal " + name + " arrived "
              + Durations.words(Duration.between(oldest, now)) + " ago, longer than the "
              + Durations.words(backlogAge) + " allowed.", oldest.plus(backlogAge)));
    }
  }

  private static String reasonOf(PartHealth part) {
    return part.reason() == null ? "status " + part.status() : part.reason();
  }
}
