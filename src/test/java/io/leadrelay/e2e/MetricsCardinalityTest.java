package io.leadrelay.e2e;

import io.leadrelay.config.MetricsConfig;
import io.leadrelay.testing.MeasuredVertx;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile caller against {@code /metrics}: what it sends (made-up HTTP methods, unknown integrations, paths with
 * secrets in them) must not become new label values, or every request would add a time series and the scrape (and
 * the relay's memory) would grow without bound.
 */
@ExtendWith(VertxExtension.class)
class MetricsCardinalityTest {

  private static final Pattern METHOD = Pattern.compile("vertx_http_server_requests_total\\{[^}]*method=\"([^\"]*)\"");

  @TempDir
  Path dir;

  /** Vert.x's own HTTP meters need a Vert.x built with metrics on. */
  @RegisterExtension
  final MeasuredVertx measured = new MeasuredVertx();

  @Test
  void madeUpMethodsAndUnknownIntegrationsAddNoLabelValues(VertxTestContext ctx) {
    Vertx vertx = measured.start();
    TestRelay.startWithMetrics(vertx, dir, MetricsConfig.onMainPort(), measured.backend()).compose(relay -> {
      List<Future<?>> hostile = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        hostile.add(relay.client().request(HttpMethod.valueOf("HOSTILE" + i), relay.port(), "127.0.0.1",
            "/webhook/default/" + TestRelay.SECRET).send());
        hostile.add(relay.client().post(relay.port(), "127.0.0.1", "/webhook/nosuch" + i + "/secret-x" + i)
            .putHeader("Content-Type", "application/json").sendBuffer(io.vertx.core.buffer.Buffer.buffer("{}")));
      }
      return Future.join(hostile).otherwiseEmpty()
          .compose(sent -> relay.client().get(relay.port(), "127.0.0.1", "/metrics")
              .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send());
    }).onComplete(ctx.succeeding(scrape -> ctx.verify(() -> {
      String text = scrape.bodyAsString();
      assertEquals(200, scrape.statusCode());
      Set<String> methods = new TreeSet<>();
      Matcher m = METHOD.matcher(text);
      while (m.find()) {
        methods.add(m.group(1));
      }
      assertFalse(methods.isEmpty(), text);
      assertTrue(methods.stream().noneMatch(method -> method.startsWith("HOSTILE")),
          "made-up methods became label values: " + methods);
      assertTrue(methods.size() <= 10, "method labels: " + methods);
      for (int i = 0; i < 40; i++) {
        assertFalse(text.contains("nosuch" + i), "an unknown integration became a label value");
        assertFalse(text.contains("secret-x" + i), "a path's secret became a label value");
      }
      ctx.completeNow();
    })));
  }
}
