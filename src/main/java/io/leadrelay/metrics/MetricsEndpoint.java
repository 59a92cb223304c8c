package io.leadrelay.metrics;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/** {@code GET /metrics}: the Prometheus text format. Whoever mounts it decides who may read it. */
public final class MetricsEndpoint implements Handler<RoutingContext> {

  /** Prometheus's text exposition format, the one every Prometheus version scrapes. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final RelayMetrics metrics;

  public MetricsEndpoint(RelayMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void handle(RoutingContext ctx) {
    metrics.scrape(ctx.vertx())
        .onSuccess(text -> {
          if (!ctx.response().ended()) {
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE).end(text);
          }
        })
        .onFailure(ctx::fail);
  }
}
