package io.leadrelay.testing;

import io.leadrelay.config.MetricsConfig;
import io.leadrelay.metrics.MetricsBackend;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.TimeUnit;

/**
 * A Vert.x built with metrics on the main port, for tests that scrape {@code /metrics} from Vert.x's own meters (the
 * injected test Vert.x has none). Register it with {@code @RegisterExtension}; it is closed after each test, from the
 * test thread, not from its own event loop.
 */
public final class MeasuredVertx implements AfterEachCallback {

  private MetricsBackend backend;
  private Vertx vertx;

  /** Builds the measured Vert.x for this test. */
  public Vertx start() {
    backend = MetricsBackend.create(MetricsConfig.onMainPort());
    vertx = backend.builder(new VertxOptions()).build();
    return vertx;
  }

  /** The metrics backend the Vert.x of {@link #start()} reports to. */
  public MetricsBackend backend() {
    return backend;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx = null;
    }
  }
}
