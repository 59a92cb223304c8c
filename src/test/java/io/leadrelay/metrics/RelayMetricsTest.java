package io.leadrelay.metrics;

import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.Backlog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.leadrelay.metrics.Scrape.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RelayMetricsTest {

  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");
  private static final PortalConfig PORTAL = PortalConfig.parse("test",
      "https://Example.Bitrix24.ru/rest/1/test-code-x/");

  /** A clock the test moves by hand. */
  private static final class HandClock extends Clock {
    Instant now = T0;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HandClock clock = new HandClock();
  private final RelayMetrics metrics = new RelayMetrics(registry, clock);

  @Test
  void theBacklogIsAskedForAtMostOncePerFewSecondsHoweverOftenItIsScraped() {
    List<Promise<List<Backlog>>> queries = new ArrayList<>();
    BacklogGauges gauges = new BacklogGauges(() -> {
      Promise<List<Backlog>> query = Promise.promise();
      queries.add(query);
      return query.future();
    }, Duration.ofSeconds(3), clock);

    Future<Void> first = gauges.refresh();
    Future<Void> second = gauges.refresh();
    assertEquals(1, queries.size(), "a scrape during a running query waits for that one");
    queries.get(0).complete(List.of(new Backlog("default", 7, T0.minusSeconds(90), 2)));
    assertTrue(first.succeeded() && second.succeeded());
    assertEquals(7, gauges.pending("default"));
    assertEquals(2, gauges.dead("default"));
    assertEquals(90.0, gauges.oldestPendingAgeSeconds("default"));

    clock.now = T0.plusSeconds(2);
    assertTrue(gauges.refresh().succeeded());
    assertEquals(1, queries.size(), "2 s later the snapshot is still fresh");
    assertEquals(92.0, gauges.oldestPendingAgeSeconds("default"), "the age grows between snapshots");

    clock.now = T0.plusSeconds(3);
    gauges.refresh();
    assertEquals(2, queries.size());
    queries.get(1).complete(List.of());
    assertEquals(0, gauges.pending("default"), "nothing pending any more");
    assertEquals(0.0, gauges.oldestPendingAgeSeconds("default"));
  }

  @Test
  void aFailedBacklogQueryKeepsThePreviousSnapshotAndLetsTheScrapeGoOn() {
    List<Future<List<Backlog>>> answers = new ArrayList<>(List.of(
        Future.succeededFuture(List.of(new Backlog("default", 3, T0, 0))),
        Future.failedFuture(new IllegalStateException("store closed"))));
    BacklogGauges gauges = new BacklogGauges(() -> answers.remove(0), Duration.ofSeconds(3), clock);
    gauges.refresh();
    clock.now = T0.plusSeconds(5);
    assertTrue(gauges.refresh().succeeded());
    assertEquals(3, gauges.pending("default"));
  }

  @Test
  void backlogGaugesCarryTheIntegrationAndThePortalHostNeverItsWebhookCode() {
    Map<String, PortalConfig> portals = new LinkedHashMap<>();
    portals.put("default", PORTAL);
    portals.put("trial", null);
    metrics.backlog(portals, () -> Future.succeededFuture(List.of(new Backlog("default", 4, T0.minusSeconds(10),
        1))));
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    String scrape;
    try {
      scrape = metrics.scrape(vertx).toCompletionStage().toCompletableFuture().join();
    } finally {
      vertx.close();
    }
    assertEquals(4, value(scrape, "leadrelay_backlog_pending", "integration=default",
        "portal=example.bitrix24.ru"), scrape);
    assertEquals(10, value(scrape, "leadrelay_backlog_oldest_pending_age_seconds", "integration=default"));
    assertEquals(1, value(scrape, "leadrelay_backlog_dead", "integration=default"));
    assertEquals(0, value(scrape, "leadrelay_backlog_pending", "integration=trial", "portal=dry-run"));
    assertTrue(scrape.contains("leadrelay_backlog_pending{integration=\"trial\",portal=\"dry-run\"}"), scrape);
    assertFalse(scrape.contains("test-code-x"), scrape);
  }

  @Test
  void anOAuthPortalIsLabelledByItsHostAndPort() {
    OAuthApp app = new OAuthApp(URI.create("http://127.0.0.1:8443"), "app.1", "client-secret-value", null, null,
        URI.create("http://127.0.0.1:8443/oauth/token/"));
    assertEquals("127.0.0.1:8443", metrics.portalLabel(PortalConfig.forApp(app)));
    assertEquals("example.bitrix24.ru", metrics.portalLabel(PORTAL));
  }

  @Test
  void operatingTimeCountsUntilTheMethodsWindowResets() {
    metrics.operatingLimit(PORTAL, 480);
    metrics.operatingTime(PORTAL, "crm.lead.add", new JsonObject().put("operating", 12.5)
        .put("operating_reset_at", T0.plusSeconds(600).getEpochSecond()));
    assertEquals(12.5, registry.get("leadrelay.portal.operating.used").tag("method", "crm.lead.add").gauge()
        .value());
    assertEquals(480, registry.get("leadrelay.portal.operating.limit").gauge().value());
    clock.now = T0.plusSeconds(601);
    assertEquals(0, registry.get("leadrelay.portal.operating.used").gauge().value(), "a new window");
  }

  @Test
  void portalAnswersAreCountedBy503And429() {
    metrics.portalAnswered(PORTAL, "batch", 503);
    metrics.portalAnswered(PORTAL, "batch", 429);
    metrics.portalAnswered(PORTAL, "crm.lead.add", 0);
    metrics.portalAnswered(PORTAL, "crm.lead.add", 200);
    assertEquals(1, registry.get("leadrelay.portal.refusals").counter().count());
    assertEquals(1, registry.get("leadrelay.portal.operating.blocks").counter().count());
    assertEquals(1, registry.get("leadrelay.portal.requests").tag("status", "none").counter().count());
    assertEquals(4, registry.get("leadrelay.portal.requests").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum());
  }

  @Test
  void disabledTheyDoNothing() {
    RelayMetrics.NONE.webhookAccepted("default", false);
    RelayMetrics.NONE.requestRefused(null, "wrong_secret", 401);
    RelayMetrics.NONE.delivered("default", "created", T0);
    RelayMetrics.NONE.portalAnswered(PORTAL, "batch", 503);
    RelayMetrics.NONE.storeCommitted(3, 1000);
    assertFalse(RelayMetrics.NONE.enabled());
  }
}
