package io.leadrelay.metrics;

import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.Backlog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * LeadRelay's own meters, the one place that names them and picks their labels. The parts that count call it with
 * domain words (a webhook accepted, a lead delivered, a portal's answer); {@link #NONE} does nothing, so a disabled
 * relay pays one branch per call.
 *
 * <p>Labels are only ever configured integration names, a portal's host, Bitrix24 method names, HTTP statuses and
 * the relay's own refusal and outcome codes: never a secret, a webhook code, a token or a payload value. Meters on
 * the accept path are looked up by integration in a map, with no label text built per request.
 */
public final class RelayMetrics {

  /** Does nothing: metrics are disabled, or the caller is a test of something else. */
  public static final RelayMetrics NONE = new RelayMetrics(null, Clock.systemUTC());

  /** The store is asked for the backlog at most this often, however often Prometheus scrapes. */
  static final Duration BACKLOG_MAX_AGE = Duration.ofSeconds(3);
  /** A scrape waits this long at most for a slow backlog query; it then shows the previous snapshot. */
  private static final long BACKLOG_WAIT_MS = 2_000;
  private static final String NO_INTEGRATION = "none";

  private final PrometheusMeterRegistry registry;
  private final Clock clock;
  private final Map<String, Counter> accepted = new ConcurrentHashMap<>();
  private final Map<String, Counter> repeated = new ConcurrentHashMap<>();
  private final Map<String, Timer> acceptToLead = new ConcurrentHashMap<>();
  private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();
  private final Map<PortalConfig, String> portalLabels = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> batchSizes = new ConcurrentHashMap<>();
  private final Map<List<String>, OperatingSample> operating = new ConcurrentHashMap<>();
  private final Timer storeCommit;
  private final DistributionSummary storeGroup;
  private volatile BacklogGauges backlog;

  public RelayMetrics(PrometheusMeterRegistry registry) {
    this(registry, Clock.systemUTC());
  }

  RelayMetrics(PrometheusMeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    if (registry == null) {
      storeCommit = null;
      storeGroup = null;
      return;
    }
    storeCommit = Timer.builder("leadrelay.store.commit")
        .description("Time one group commit of the delivery store took (its transaction, fsync included)")
        .serviceLevelObjectives(millis(1), millis(2), millis(5), millis(10), millis(25), millis(50), millis(100),
            millis(250), millis(500), millis(1000), millis(2500))
        .register(registry);
    storeGroup = DistributionSummary.builder("leadrelay.store.commit.group.size")
        .description("Store operations committed together in one transaction")
        .serviceLevelObjectives(1, 2, 5, 10, 20, 50, 100, 200, 500)
        .register(registry);
  }

  public boolean enabled() {
    return registry != null;
  }

  // --- webhooks ---

  /** A webhook was stored and answered 200: new, or a repeat of one already accepted (nothing new to deliver). */
  public void webhookAccepted(String integration, boolean repeat) {
    if (registry == null) {
      return;
    }
    if (repeat) {
      repeated.computeIfAbsent(integration, name -> Counter.builder("leadrelay.webhooks.repeated")
          .description("Webhooks answered 200 as a repeat of an accepted one (no second lead)")
          .tag("integration", name).register(registry)).increment();
    } else {
      accepted.computeIfAbsent(integration, name -> Counter.builder("leadrelay.webhooks.accepted")
          .description("Webhooks stored and answered 200, each to become one lead")
          .tag("integration", name).register(registry)).increment();
    }
  }

  /**
   * A request was refused with a 4xx/5xx: {@code code} is the relay's refusal code (wrong_secret, bad_json, ...),
   * {@code integration} a configured one or null.
   */
  public void requestRefused(String integration, String code, int status) {
    count("leadrelay.requests.refused", "Requests refused, by the relay's refusal code and HTTP status",
        "integration", integration == null ? NO_INTEGRATION : integration, "code", code,
        "status", Integer.toString(status));
  }

  // --- deliveries ---

  /**
   * A lead exists for the delivery and the store says so: {@code outcome} created, found (an earlier attempt had
   * created it) or dry_run. Its time from acceptance goes into the accept-to-lead histogram.
   */
  public void delivered(String integration, String outcome, Instant receivedAt) {
    if (registry == null) {
      return;
    }
    count("leadrelay.deliveries", "Delivery outcomes recorded in the store", "integration", integration,
        "outcome", outcome, "error_class", "none");
    Duration elapsed = Duration.between(receivedAt, clock.instant());
    acceptToLead.computeIfAbsent(integration, name -> Timer.builder("leadrelay.accept.to.lead")
            .description("From the webhook's 200 to its lead existing in Bitrix24 (or logged, dry-run)")
            .tag("integration", name)
            .serviceLevelObjectives(millis(100), millis(250), millis(500), millis(1000), millis(2500),
                millis(5000), millis(10_000), millis(30_000), millis(60_000), millis(300_000), millis(900_000),
                millis(3_600_000))
            .register(registry))
        .record(elapsed.isNegative() ? Duration.ZERO : elapsed);
  }

  /**
   * An attempt failed and the store recorded what next: {@code outcome} retry, waiting (the portal is paused) or
   * dead; {@code errorClass} the failure's class in lower case (refused, ambiguous, lead_rejected,
   * portal_failure), or null when there was no portal answer (an unknown integration).
   */
  public void deliveryFailed(String integration, String outcome, String errorClass) {
    count("leadrelay.deliveries", "Delivery outcomes recorded in the store", "integration", integration,
        "outcome", outcome, "error_class", errorClass == null ? "none" : errorClass);
  }

  // --- the store ---

  /** The delivery store committed {@code operations} in one transaction that took {@code nanos}. */
  public void storeCommitted(int operations, long nanos) {
    if (registry == null) {
      return;
    }
    storeCommit.record(nanos, TimeUnit.NANOSECONDS);
    storeGroup.record(operations);
  }

  /**
   * Backlog gauges for each integration (with its portal's host, or "dry-run"), fed by {@code query} at most every
   * few seconds, refreshed when Prometheus scrapes.
   */
  public void backlog(Map<String, PortalConfig> portalsByIntegration, Supplier<Future<List<Backlog>>> query) {
    if (registry == null) {
      return;
    }
    BacklogGauges gauges = new BacklogGauges(query, BACKLOG_MAX_AGE, clock);
    portalsByIntegration.forEach((integration, portal) -> {
      Tags tags = Tags.of("integration", integration, "portal", portal == null ? "dry-run" : portalLabel(portal));
      Gauge.builder("leadrelay.backlog.pending", gauges, g -> g.pending(integration)).tags(tags)
          .description("Deliveries waiting for their lead (PENDING or FAILED)").register(registry);
      Gauge.builder("leadrelay.backlog.oldest.pending.age", gauges, g -> g.oldestPendingAgeSeconds(integration))
          .tags(tags).baseUnit("seconds")
          .description("Age of the oldest delivery still waiting for its lead, 0 when none waits").register(registry);
      Gauge.builder("leadrelay.backlog.dead", gauges, g -> g.dead(integration)).tags(tags)
          .description("DEAD deliveries: given up, waiting for a person to replay them").register(registry);
    });
    backlog = gauges;
  }

  // --- Bitrix24 portals ---

  /**
   * A portal answered one request with {@code status} (0: no answer at all, e.g. a timeout or a refused
   * connection). 503 is Bitrix24's request-rate refusal (QUERY_LIMIT_EXCEEDED), 429 its operating-time block.
   */
  public void portalAnswered(PortalConfig portal, String method, int status) {
    if (registry == null) {
      return;
    }
    String host = portalLabel(portal);
    count("leadrelay.portal.requests", "Requests sent to Bitrix24, by method and answer status", "portal", host,
        "method", method, "status", status == 0 ? "none" : Integer.toString(status));
    if (status == 503) {
      count("leadrelay.portal.refusals", "503 answers: the portal refused a request over its rate limit",
          "portal", host);
    } else if (status == 429) {
      count("leadrelay.portal.operating.blocks", "429 answers: a method blocked for using up its operating time",
          "portal", host);
    }
  }

  /** A request carried {@code leads} leads (1 for a plain crm.lead.add, up to 50 in a batch). */
  public void leadsSent(PortalConfig portal, int leads) {
    if (registry == null) {
      return;
    }
    batchSizes.computeIfAbsent(portalLabel(portal), host -> DistributionSummary.builder("leadrelay.portal.batch.size")
            .description("Leads carried by one request to Bitrix24")
            .tag("portal", host)
            .serviceLevelObjectives(1, 2, 5, 10, 20, 30, 40, 50)
            .register(registry))
        .record(leads);
  }

  /** The portal's limit on operating time per method and window, for the used-versus-limit gauge. */
  public void operatingLimit(PortalConfig portal, double seconds) {
    if (registry == null) {
      return;
    }
    Gauge.builder("leadrelay.portal.operating.limit", () -> seconds).tag("portal", portalLabel(portal))
        .baseUnit("seconds").description("Operating time a method may use per window before Bitrix24 blocks it")
        .register(registry);
  }

  /** The {@code time} block of an answer: how much operating time the method has used in the current window. */
  public void operatingTime(PortalConfig portal, String method, JsonObject time) {
    if (registry == null || !(time.getValue("operating") instanceof Number used)) {
      return;
    }
    Instant resetAt = time.getValue("operating_reset_at") instanceof Number at
        ? Instant.ofEpochSecond(at.longValue()) : null;
    List<String> key = List.of(portalLabel(portal), method);
    operating.computeIfAbsent(key, k -> {
      OperatingSample sample = new OperatingSample();
      Gauge.builder("leadrelay.portal.operating.used", sample, s -> s.at(clock.instant()))
          .tags("portal", k.get(0), "method", k.get(1)).baseUnit("seconds")
          .description("Operating time the method used in the portal's current window, as Bitrix24 last reported")
          .register(registry);
      return sample;
    }).set(used.doubleValue(), resetAt);
  }

  // --- logs ---

  /** A gauge of how many lines wait in one log file's write queue. */
  public <T> void logQueue(String log, T files, ToDoubleFunction<T> depth) {
    if (registry == null) {
      return;
    }
    Gauge.builder("leadrelay.log.queue.depth", files, depth).tag("log", log)
        .description("Lines waiting in the log writer's queue").register(registry);
  }

  // --- scraping ---

  /**
   * Everything in the Prometheus text format, with the backlog gauges at most a few seconds old (a slow store makes
   * them show the previous snapshot rather than hold the scrape).
   */
  public Future<String> scrape(Vertx vertx) {
    if (registry == null) {
      return Future.failedFuture(new IllegalStateException("metrics are disabled"));
    }
    BacklogGauges gauges = backlog;
    Future<Void> fresh = gauges == null ? Future.succeededFuture() : gauges.refresh();
    Promise<Void> ready = Promise.promise();
    fresh.onComplete(done -> ready.tryComplete());
    if (!fresh.isComplete()) {
      long timer = vertx.setTimer(BACKLOG_WAIT_MS, id -> ready.tryComplete());
      fresh.onComplete(done -> vertx.cancelTimer(timer));
    }
    return ready.future().map(v -> registry.scrape());
  }

  /** A portal's label: its host (and port), never the webhook path with its code. */
  String portalLabel(PortalConfig portal) {
    return portalLabels.computeIfAbsent(portal, p -> {
      java.net.URI url = p.oauth() != null ? java.net.URI.create(p.oauth().portalKey()) : p.webhookUrl();
      return url.getHost().toLowerCase(java.util.Locale.ROOT) + (url.getPort() == -1 ? "" : ":" + url.getPort());
    });
  }

  /** Counters off the accept path: a key list per call is cheap next to a refusal or a portal request. */
  private void count(String name, String description, String... tags) {
    if (registry == null) {
      return;
    }
    List<String> key = new java.util.ArrayList<>(tags.length + 1);
    key.add(name);
    key.addAll(List.of(tags));
    counters.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags).register(registry))
        .increment();
  }

  private static Duration millis(long ms) {
    return Duration.ofMillis(ms);
  }

  /** The last operating time a method reported, which counts only until its window resets. */
  private static final class OperatingSample {
    private volatile double used;
    private volatile Instant resetAt;

    void set(double used, Instant resetAt) {
      this.used = used;
      this.resetAt = resetAt;
    }

    double at(Instant now) {
      Instant reset = resetAt;
      return reset != null && now.isAfter(reset) ? 0 : used;
    }
  }
}
