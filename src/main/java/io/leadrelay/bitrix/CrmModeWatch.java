package io.leadrelay.bitrix;

import io.leadrelay.config.PortalConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Knows each portal's CRM mode for /health: asks {@code crm.settings.mode.get} at start and every hour (an
 * administrator can switch a portal to "simple CRM" any day); after a failed question again in 5 s, doubling up to a
 * minute (a relay starting under load may miss the first answer). Only informative: a
 * failure leaves the last known mode (or {@link CrmMode#UNKNOWN}) and never holds a lead back. Used on the owning
 * verticle's event loop only.
 */
final class CrmModeWatch {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");

  static final Duration EVERY = Duration.ofHours(1);
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);
  static final Duration LONGEST_RETRY = Duration.ofMinutes(1);

  private final Vertx vertx;
  private final BitrixClient client;
  private final Map<PortalConfig, CrmMode> modes = new HashMap<>();
  /** The next wait after a failed question, per portal. */
  private final Map<PortalConfig, Duration> retries = new HashMap<>();
  private final Set<Long> timers = new HashSet<>();
  private boolean stopped;

  CrmModeWatch(Vertx vertx, BitrixClient client) {
    this.vertx = vertx;
    this.client = client;
  }

  /** Starts watching a portal: asked now, then hourly. */
  void watch(PortalConfig portal) {
    if (modes.putIfAbsent(portal, CrmMode.UNKNOWN) == null) {
      check(portal);
    }
  }

  CrmMode mode(PortalConfig portal) {
    return modes.getOrDefault(portal, CrmMode.UNKNOWN);
  }

  void stop() {
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    timers.clear();
  }

  private void check(PortalConfig portal) {
    ask(portal).onComplete(asked -> {
      Duration next = EVERY;
      if (asked.succeeded() && asked.result() != CrmMode.UNKNOWN) {
        retries.remove(portal);
        CrmMode before = modes.put(portal, asked.result());
        if (before != asked.result()) {
          LOG.info("Portal {} runs the {} CRM{}", portal.masked(), asked.result().label(),
              asked.result() == CrmMode.SIMPLE ? " (no leads: Bitrix24 turns each lead with a NAME into a deal)" : "");
        }
      } else {
        next = retries.getOrDefault(portal, FIRST_RETRY);
        retries.put(portal, next.multipliedBy(2).compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : next.multipliedBy(2));
        LOG.debug("Portal {}: CRM mode not known ({}); asked again in {} s", portal.masked(),
            asked.failed() ? asked.cause().getMessage() : "unexpected answer", next.toSeconds());
      }
      schedule(portal, next);
    });
  }

  private Future<CrmMode> ask(PortalConfig portal) {
    return client.call(portal, "crm.settings.mode.get", new JsonObject())
        .map(answer -> CrmMode.ofResult(answer.getValue("result")));
  }

  private void schedule(PortalConfig portal, Duration after) {
    if (stopped) {
      return;
    }
    long[] id = new long[1];
    id[0] = vertx.setTimer(after.toMillis(), fired -> {
      timers.remove(id[0]);
      check(portal);
    });
    timers.add(id[0]);
  }
}
