package io.leadrelay.metrics;

import io.leadrelay.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.function.IntConsumer;

/**
 * {@code /metrics} on its own port (METRICS_PORT), bound to the same host as the webhooks, without authentication:
 * the port is meant to be reachable from the monitoring network only. It serves nothing else.
 */
public final class MetricsVerticle extends VerticleBase {

  private final String host;
  private final int port;
  private final RelayMetrics metrics;
  private final IntConsumer onListening;
  private HttpServer server;

  /** @param onListening told the actual port once listening (tests listen on port 0) */
  public MetricsVerticle(String host, int port, RelayMetrics metrics, IntConsumer onListening) {
    this.host = host;
    this.port = port;
    this.metrics = metrics;
    this.onListening = onListening;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(new MetricsEndpoint(metrics));
    router.route().last().handler(ctx -> ctx.response().setStatusCode(404)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .end(new JsonObject().put("ok", false).put("error", "not_found")
            .put("message", "Only GET /metrics is served on this port.").encode()));
    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port).setIdleTimeout(60))
        .requestHandler(router)
        .listen()
        // Said here: start-up's own explanation of a busy port is about HTTP_PORT.
        .recover(failure -> Future.failedFuture(new ConfigException("Cannot serve metrics on " + host + ":" + port
            + " (" + failure.getMessage() + "); stop what listens there or set METRICS_PORT (metrics.port) to a free"
            + " port.")))
        .onSuccess(s -> {
          server = s;
          onListening.accept(s.actualPort());
        });
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
