package io.leadrelay.alerting;

import io.leadrelay.ops.Condition;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decides which alerts go out, so that people are told once and not flooded:
 * <ul>
 *   <li>a condition is alerted once when it begins and once when it clears, however long it lasts;</li>
 *   <li>of the deliveries that go DEAD, the first few of a digest period are alerted one by one and the rest are
 *   counted into one digest at the period's end;</li>
 *   <li>at most {@code maxPerHour} alerts an hour; past it they are counted, and one "N alerts suppressed" line
 *   goes when the hour is over.</li>
 * </ul>
 * Pure: time comes in as arguments. Not thread-safe: owned by one verticle's event loop.
 */
public final class AlertDesk {

  private final AlertWording wording;
  private final int maxPerHour;
  private final int deadAtOnce;
  private final Duration digestEvery;

  /** The conditions alerted and not yet cleared, by key. */
  private final Map<String, Condition> active = new LinkedHashMap<>();
  /** Each integration's DEAD digest period (null key: deliveries of no known integration). */
  private final Map<String, DigestPeriod> digests = new HashMap<>();

  private Instant hourStart;
  private int sentThisHour;
  /** What the cap held back this hour: by integration (null: the deployment's), then by what it was. */
  private final Map<String, Map<String, Integer>> suppressed = new HashMap<>();

  private static final class DigestPeriod {
    final Instant start;
    int alerted;
    int counted;

    DigestPeriod(Instant start) {
      this.start = start;
    }
  }

  /**
   * @param adminUrl   the admin page's public base URL for links (null: relative links)
   * @param maxPerHour alerts an hour at most
   * @param deadAtOnce DEAD deliveries alerted one by one per digest period
   * @param node       this node's name, said in node-wide alerts when several nodes share a store; null: one node
   */
  public AlertDesk(String adminUrl, int maxPerHour, int deadAtOnce, Duration digestEvery, String node) {
    this.wording = new AlertWording(adminUrl, node);
    this.maxPerHour = maxPerHour;
    this.deadAtOnce = deadAtOnce;
    this.digestEvery = digestEvery;
  }

  /** The conditions holding now: alerts for each that began and each that cleared since the last call. */
  public List<Alert> observe(List<Condition> holding, Instant now) {
    List<Alert> alerts = new ArrayList<>();
    Map<String, Condition> current = new LinkedHashMap<>();
    holding.forEach(condition -> current.putIfAbsent(condition.key(), condition));
    for (var it = active.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Condition> was = it.next();
      if (!current.containsKey(was.getKey())) {
        it.remove();
        admit(wording.recovered(was.getValue(), now), "resolved", now, alerts);
      }
    }
    for (Condition condition : current.values()) {
      if (active.putIfAbsent(condition.key(), condition) == null) {
        admit(wording.raised(condition), condition.kind().name(), now, alerts);
      }
    }
    return alerts;
  }

  /** A delivery went DEAD: its own alert, or counted into its integration's next digest. */
  public List<Alert> dead(DeadDelivery dead, Instant now) {
    List<Alert> alerts = new ArrayList<>();
    alerts.addAll(tick(now));
    DigestPeriod period = digests.computeIfAbsent(dead.integration(), key -> new DigestPeriod(now));
    if (period.alerted < deadAtOnce) {
      period.alerted++;
      admit(wording.dead(dead), "DELIVERY_DEAD", now, alerts);
    } else {
      period.counted++;
    }
    return alerts;
  }

  /** Time passes: digests whose period is over, and the suppressed line once the capped hour is over. */
  public List<Alert> tick(Instant now) {
    List<Alert> alerts = new ArrayList<>();
    for (var it = digests.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, DigestPeriod> entry = it.next();
      DigestPeriod period = entry.getValue();
      if (!now.isBefore(period.start.plus(digestEvery))) {
        it.remove();
        if (period.counted > 0) {
          admit(wording.digest(entry.getKey(), period.counted, period.alerted, digestEvery), "DELIVERY_DEAD digest",
              now, alerts);
        }
      }
    }
    endHourIfOver(now, alerts);
    return alerts;
  }

  /** Conditions being alerted on now, by key (what a recovery will be sent for). */
  public Map<String, Condition> active() {
    return Map.copyOf(active);
  }

  private void admit(Alert alert, String what, Instant now, List<Alert> out) {
    endHourIfOver(now, out);
    if (hourStart == null) {
      hourStart = now;
    }
    if (sentThisHour < maxPerHour) {
      sentThisHour++;
      out.add(alert);
    } else {
      suppressed.computeIfAbsent(alert.integration(), key -> new TreeMap<>()).merge(what, 1, Integer::sum);
    }
  }

  /** The hour is over: the count starts again, and what was held back is told in one line per channel owner. */
  private void endHourIfOver(Instant now, List<Alert> out) {
    if (hourStart == null || now.isBefore(hourStart.plus(Duration.ofHours(1)))) {
      return;
    }
    hourStart = null;
    sentThisHour = 0;
    suppressed.forEach((integration, byWhat) -> out.add(wording.suppressed(integration, byWhat, maxPerHour)));
    suppressed.clear();
  }
}
