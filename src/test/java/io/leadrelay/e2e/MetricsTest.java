package io.leadrelay.e2e;

import io.leadrelay.config.MetricsConfig;
import io.leadrelay.metrics.MetricsBackend;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.MeasuredVertx;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.leadrelay.metrics.Scrape.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics} end to end: the values a Prometheus server would see move through a run against the fake
 * portal, no label or value carries a secret or a subscriber's data, and who may read them on which port.
 */
@ExtendWith(VertxExtension.class)
class MetricsTest {

  private static final String PHONE = "+79997654321";
  private static final String NAME = "Зоя Метрикова";
  private static final String EMAIL = "zoya.metrics@example.org";
  private static final String SUBSCRIBER = "{\"name\":\"" + NAME + "\",\"phone\":\"" + PHONE + "\",\"email\":\""
      + EMAIL + "\"}";
  private static final String D = "integration=default";

  @TempDir
  Path dir;

  /** Vert.x's own HTTP meters need a Vert.x built with metrics on. */
  @RegisterExtension
  final MeasuredVertx measured = new MeasuredVertx();

  @Test
  void valuesMoveThroughARunAndNoneCarriesASecretOrSubscriberData(VertxTestContext ctx) {
    Vertx vertx = measured.start();
    TestRelay.startWithMetrics(vertx, dir, MetricsConfig.onMainPort(), measured.backend()).compose(relay -> {
      // The portal refuses every request over its rate limit until told otherwise: the lead waits.
      relay.portal().faults(() -> Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
      return scrape(relay, TestRelay.ADMIN_TOKEN).compose(before -> {
        ctx.verify(() -> assertEquals(0, value(before, "leadrelay_backlog_pending", D), before));
        return relay.postJson(SUBSCRIBER)
            .compose(first -> relay.postJson(SUBSCRIBER))
            .compose(repeat -> relay.post("/webhook/default/not-the-secret-xyz", "application/json",
                Buffer.buffer(SUBSCRIBER)))
            .compose(wrongSecret -> relay.post("/webhook/default/" + TestRelay.SECRET, "application/json",
                Buffer.buffer("{\"name\":")))
            .compose(badBody -> relay.pollAsync(() -> scrapeWhen(relay, text ->
                value(text, "leadrelay_backlog_pending", D) == 1
                    && value(text, "leadrelay_deliveries_total", D, "outcome=retry", "error_class=refused") >= 1)));
      }).compose(waiting -> {
        ctx.verify(() -> {
          assertEquals(1, value(waiting, "leadrelay_webhooks_accepted_total", D), "the repeat is not a second");
          assertEquals(1, value(waiting, "leadrelay_webhooks_repeated_total", D));
          assertEquals(1, value(waiting, "leadrelay_requests_refused_total", D, "code=wrong_secret", "status=401"));
          assertEquals(1, value(waiting, "leadrelay_requests_refused_total", D, "code=malformed_json",
              "status=400"));
          assertTrue(value(waiting, "leadrelay_portal_refusals_total") >= 1, waiting);
          assertTrue(value(waiting, "leadrelay_portal_requests_total", "method=crm.lead.add", "status=503") >= 1);
          assertTrue(value(waiting, "leadrelay_backlog_oldest_pending_age_seconds", D) > 0);
          assertEquals(0, value(waiting, "leadrelay_accept_to_lead_seconds_count", D), "no lead yet");
        });
        relay.portal().faults(() -> null);
        return relay.pollAsync(() -> scrapeWhen(relay, text -> value(text, "leadrelay_backlog_pending", D) == 0
            && value(text, "leadrelay_deliveries_total", D, "outcome=created") == 1));
      }).compose(delivered -> {
        ctx.verify(() -> {
          assertEquals(1, relay.portal().leads().size());
          assertEquals(1, value(delivered, "leadrelay_accept_to_lead_seconds_count", D));
          assertEquals(0, value(delivered, "leadrelay_backlog_oldest_pending_age_seconds", D));
          assertEquals(0, value(delivered, "leadrelay_backlog_dead", D));
          assertTrue(value(delivered, "leadrelay_portal_requests_total", "method=crm.lead.add", "status=200") >= 1);
          assertTrue(value(delivered, "leadrelay_portal_batch_size_count") >= 2, "each attempt carried the lead");
          assertEquals(480, value(delivered, "leadrelay_portal_operating_limit_seconds"));
          assertTrue(value(delivered, "leadrelay_store_commit_seconds_count") > 0);
          assertTrue(value(delivered, "leadrelay_store_commit_group_size_sum") > 0);
          assertTrue(delivered.contains("leadrelay_log_queue_depth{log=\"webhook\"}"), "log writer queues");
          // Vert.x's own (the webhook route by its pattern) and the JVM's.
          assertTrue(value(delivered, "vertx_http_server_requests_total",
              "route=/webhook/:integration/:secret", "code=200") >= 2, delivered);
          assertTrue(delivered.contains("vertx_http_client_requests_total"), "calls to the portal");
          assertTrue(delivered.contains("jvm_memory_used_bytes"));
          for (String secret : new String[] {TestRelay.SECRET, TestRelay.ADMIN_TOKEN, relay.portal().code(),
              "not-the-secret-xyz", PHONE, "79997654321", NAME, "Зоя", EMAIL}) {
            assertFalse(delivered.contains(secret), "the scrape shows " + secret);
          }
        });
        return Future.succeededFuture();
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void onTheWebhookPortOnlyTheAdminTokenReadsThem(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithMetrics(vertx, dir, MetricsConfig.onMainPort(), MetricsBackend.create(
        MetricsConfig.onMainPort())).compose(relay -> get(relay, relay.port(), null)
            .compose(none -> get(relay, relay.port(), "wrong-token-0123456789").map(wrong -> {
              ctx.verify(() -> {
                assertEquals(401, none.statusCode());
                assertEquals("unauthorized", none.bodyAsJsonObject().getString("error"));
                assertEquals(401, wrong.statusCode());
                assertFalse(none.bodyAsString().contains("leadrelay_"));
              });
              return relay;
            }))
            .compose(refused -> get(relay, relay.port(), TestRelay.ADMIN_TOKEN)))
        .onComplete(ctx.succeeding(allowed -> ctx.verify(() -> {
          assertEquals(200, allowed.statusCode());
          assertTrue(allowed.getHeader("Content-Type").startsWith("text/plain; version=0.0.4"));
          assertTrue(allowed.bodyAsString().contains("leadrelay_backlog_pending{integration=\"default\""));
          ctx.completeNow();
        })));
  }

  @Test
  void onTheirOwnPortTheyAreOpenAndTheWebhookPortHasNone(Vertx vertx, VertxTestContext ctx) {
    MetricsConfig ownPort = MetricsConfig.onPort(0);
    TestRelay.startWithMetrics(vertx, dir, ownPort, MetricsBackend.create(ownPort)).compose(relay ->
            get(relay, relay.relay().metricsPort(), null).compose(open ->
                get(relay, relay.port(), TestRelay.ADMIN_TOKEN).compose(main ->
                    get(relay, relay.relay().metricsPort(), null, "/admin/deliveries").map(other -> {
                      ctx.verify(() -> {
                        assertEquals(200, open.statusCode());
                        assertTrue(open.bodyAsString().contains("leadrelay_backlog_pending"));
                        assertEquals(404, main.statusCode(), "not on the webhook port");
                        assertEquals(404, other.statusCode(), "nothing else on the metrics port");
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aBusyMetricsPortStopsStartUpNamingMetricsPort(Vertx vertx, VertxTestContext ctx) throws Exception {
    try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      MetricsConfig taken = MetricsConfig.onPort(busy.getLocalPort());
      TestRelay.startWithMetrics(vertx, dir, taken, MetricsBackend.create(taken))
          .onComplete(ctx.failing(refused -> ctx.verify(() -> {
            assertTrue(refused.getMessage().startsWith("Cannot serve metrics on 127.0.0.1:" + busy.getLocalPort()),
                refused.getMessage());
            assertTrue(refused.getMessage().endsWith("set METRICS_PORT (metrics.port) to a free port."));
            ctx.completeNow();
          })));
      assertTrue(ctx.awaitCompletion(20, TimeUnit.SECONDS));
    }
  }

  @Test
  void disabledTheyAreNotThere(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithMetrics(vertx, dir, MetricsConfig.disabled(), MetricsBackend.create(MetricsConfig.disabled()))
        .compose(relay -> get(relay, relay.port(), TestRelay.ADMIN_TOKEN))
        .onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
          assertEquals(404, answer.statusCode());
          ctx.completeNow();
        })));
  }

  private static Future<String> scrape(TestRelay relay, String token) {
    return get(relay, relay.port(), token).map(answer -> {
      if (answer.statusCode() != 200) {
        throw new AssertionError("GET /metrics answered " + answer.statusCode() + ": " + answer.bodyAsString());
      }
      return answer.bodyAsString();
    });
  }

  /** The scrape once it satisfies {@code condition}, else null (for {@link TestRelay#pollAsync}). */
  private static Future<String> scrapeWhen(TestRelay relay, Predicate<String> condition) {
    return scrape(relay, TestRelay.ADMIN_TOKEN).map(text -> condition.test(text) ? text : null);
  }

  private static Future<HttpResponse<Buffer>> get(TestRelay relay, int port, String token) {
    return get(relay, port, token, "/metrics");
  }

  private static Future<HttpResponse<Buffer>> get(TestRelay relay, int port, String token, String path) {
    var request = relay.client().get(port, "127.0.0.1", path);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    return request.send();
  }
}
