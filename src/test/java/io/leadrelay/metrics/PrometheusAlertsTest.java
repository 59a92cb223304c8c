package io.leadrelay.metrics;

import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.Backlog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sample alert rules in deploy/ are a rule file Prometheus can load, and every LeadRelay metric they query is
 * one the relay exports under that name: a renamed meter would otherwise silence an alert without anyone noticing.
 * (Their PromQL is checked by {@code promtool check rules deploy/prometheus-alerts.yml}, see README.)
 */
class PrometheusAlertsTest {

  private static final Path RULES = Path.of("deploy", "prometheus-alerts.yml");
  private static final Pattern METRIC = Pattern.compile("\\bleadrelay_[a-z_]+");
  private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

  @Test
  @SuppressWarnings("unchecked")
  void everyRuleIsCompleteAndQueriesMetricsTheRelayExports() throws IOException {
    Map<String, Object> file;
    try (Reader reader = Files.newBufferedReader(RULES, StandardCharsets.UTF_8)) {
      file = new Yaml().load(reader);
    }
    String exported = scrapeOfEveryMeter();
    List<Map<String, Object>> groups = (List<Map<String, Object>>) file.get("groups");
    assertEquals(1, groups.size());
    List<Map<String, Object>> rules = (List<Map<String, Object>>) groups.get(0).get("rules");
    assertTrue(rules.size() >= 10, "rules: " + rules.size());
    Set<String> names = new TreeSet<>();
    for (Map<String, Object> rule : rules) {
      String alert = (String) rule.get("alert");
      assertNotNull(alert, rule.toString());
      assertTrue(names.add(alert), "two rules named " + alert);
      String expr = (String) rule.get("expr");
      assertNotNull(expr, alert);
      Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
      assertTrue(SEVERITIES.contains(labels.get("severity")), alert + ": severity " + labels.get("severity"));
      Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
      assertFalse(((String) annotations.get("summary")).isBlank(), alert);
      Matcher metric = METRIC.matcher(expr);
      while (metric.find()) {
        assertTrue(exported.contains("\n" + metric.group() + "{") || exported.contains("\n" + metric.group() + " "),
            alert + " queries " + metric.group() + ", which the relay does not export");
      }
    }
  }

  /** What a relay exports once each of its meters has counted something. */
  private static String scrapeOfEveryMeter() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RelayMetrics metrics = new RelayMetrics(registry);
    PortalConfig portal = PortalConfig.parse("test", "https://example.bitrix24.ru/rest/1/test-code-x/");
    metrics.webhookAccepted("default", false);
    metrics.webhookAccepted("default", true);
    metrics.requestRefused("default", "wrong_secret", 401);
    metrics.delivered("default", "created", Instant.now());
    metrics.deliveryFailed("default", "dead", "lead_rejected");
    metrics.storeCommitted(3, 2_000_000);
    metrics.backlog(Map.of("default", portal), () -> Future.succeededFuture(List.<Backlog>of()));
    metrics.portalAnswered(portal, "batch", 503);
    metrics.portalAnswered(portal, "batch", 429);
    metrics.leadsSent(portal, 7);
    metrics.operatingLimit(portal, 480);
    metrics.operatingTime(portal, "crm.lead.add", new JsonObject().put("operating", 1.5));
    metrics.logQueue("webhook", new Object(), files -> 0);
    return "\n" + registry.scrape();
  }
}
