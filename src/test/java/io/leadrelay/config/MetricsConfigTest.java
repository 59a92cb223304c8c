package io.leadrelay.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** METRICS_ENABLED and METRICS_PORT (metrics.enabled, metrics.port): read once, refused in one sentence. */
class MetricsConfigTest {

  private static MetricsConfig metrics(JsonObject json) {
    return ConfigParser.parse(json).metrics();
  }

  private static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(json)).getMessage();
  }

  @Test
  void byDefaultTheyAreOnTheWebhookPort() {
    assertEquals(MetricsConfig.onMainPort(), metrics(new JsonObject()));
    assertFalse(metrics(new JsonObject()).ownPort());
  }

  @Test
  void aPortOfTheirOwnFromTheEnvironmentOrTheFile() {
    assertEquals(OptionalInt.of(9100), metrics(new JsonObject().put("METRICS_PORT", "9100")).port());
    assertTrue(metrics(new JsonObject().put("METRICS_PORT", "9100")).ownPort());
    assertEquals(OptionalInt.of(9101), metrics(new JsonObject().put("metrics", new JsonObject().put("port", 9101)))
        .port());
  }

  @Test
  void falseTurnsThemOffWhateverThePort() {
    assertEquals(MetricsConfig.disabled(), metrics(new JsonObject().put("METRICS_ENABLED", "false")));
    assertEquals(MetricsConfig.disabled(), metrics(new JsonObject().put("METRICS_ENABLED", "FALSE")
        .put("METRICS_PORT", "9100")));
    assertEquals(MetricsConfig.disabled(), metrics(new JsonObject().put("metrics",
        new JsonObject().put("enabled", false))));
    assertEquals(MetricsConfig.onMainPort(), metrics(new JsonObject().put("METRICS_ENABLED", "true")));
  }

  @Test
  void aBadValueStopsStartUpNamingTheVariable() {
    assertEquals("METRICS_ENABLED must be true or false, got \"no\".",
        error(new JsonObject().put("METRICS_ENABLED", "no")));
    assertEquals("METRICS_PORT must be a whole number from 1 to 65535, got \"http\".",
        error(new JsonObject().put("METRICS_PORT", "http")));
    assertTrue(error(new JsonObject().put("METRICS_PORT", "8080")).startsWith("METRICS_PORT is 8080, the webhook"
        + " port (HTTP_PORT)"));
    assertTrue(error(new JsonObject().put("metrics", new JsonObject().put("path", "/m")))
        .startsWith("Unknown key 'path' in metrics"));
  }
}
