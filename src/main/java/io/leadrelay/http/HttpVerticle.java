package io.leadrelay.http;

import io.leadrelay.Addresses;
import io.leadrelay.BusCodec;
import io.leadrelay.config.AdminConfig;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.HttpConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.ops.HealthReport;
import io.leadrelay.ops.RelayConditions;
import io.leadrelay.metrics.MetricsEndpoint;
import io.leadrelay.metrics.RelayMetrics;
import io.leadrelay.store.Accepted;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.StoreUnavailable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * The relay's HTTP face: accepts BotHelp webhooks on {@code POST /webhook/{integration}/{secret}}, refuses
 * anything it cannot turn into a lead with a clear 4xx, and answers {@code /health}. It validates and hands over;
 * mapping and delivery happen on the bus.
 */
public class HttpVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  /**
   * After a refusal the rest of the body is read and thrown away, so the client gets to read the answer (closing a
   * socket with unread input makes TCP reset it, and the answer can be lost). Past this much, the client is cut off.
   */
  private static final long MAX_DISCARDED_BYTES = 1024 * 1024;
  private static final String JSON_UTF8 = "application/json; charset=utf-8";
  /**
   * The store gives a waiting webhook up this much before the sender is answered: one still queued by then is
   * withdrawn, so the 503 the sender gets is exact; one already taken into a group commit may still be stored
   * (see {@link #accept}).
   */
  private static final Duration STORE_WITHDRAWAL_MARGIN = Duration.ofMillis(300);

  private final HttpConfig config;
  private final DeliveryConfig delivery;
  private final DeliveryStore store;
  private final Deliveries deliveries;
  private final Map<String, SecretMatcher> secrets = new LinkedHashMap<>();
  private final Map<String, IntegrationConfig> integrations;
  private final AdminConfig admin;
  private final IntConsumer onListening;
  private final RelayMetrics metrics;
  /** Whether /metrics is served here (behind the admin token) rather than on a port of its own. */
  private final boolean metricsHere;
  private final DeliveryIds ids = new DeliveryIds();
  /** How old a waiting lead may get before /health says DEGRADED (ALERT_BACKLOG_AGE_SECONDS). */
  private final Duration backlogAge;
  private HealthReport health;
  /** Set when stopping begins: /health/ready says 503 at once so that load balancers send elsewhere. */
  private volatile boolean stopping;
  private HttpServer server;

  /**
   * @param admin       the admin API is mounted under /admin only when it is enabled
   * @param onListening told the actual port once listening (tests listen on port 0)
   */
  public HttpVerticle(HttpConfig config, DeliveryConfig delivery, DeliveryStore store,
                      Map<String, IntegrationConfig> integrations, AdminConfig admin, IntConsumer onListening) {
    this(config, delivery, store, integrations, admin, RelayConditions.DEFAULT_BACKLOG_AGE, onListening,
        RelayMetrics.NONE, false);
  }

  /** @param backlogAge a waiting lead older than this makes /health DEGRADED */
  public HttpVerticle(HttpConfig config, DeliveryConfig delivery, DeliveryStore store,
                      Map<String, IntegrationConfig> integrations, AdminConfig admin, Duration backlogAge,
                      IntConsumer onListening) {
    this(config, delivery, store, integrations, admin, backlogAge, onListening, RelayMetrics.NONE, false);
  }

  /**
   * @param backlogAge  a waiting lead older than this makes /health DEGRADED
   * @param metrics     counts webhooks accepted, repeated and refused
   * @param metricsHere serve {@code GET /metrics} on this port, to callers with the admin token
   */
  public HttpVerticle(HttpConfig config, DeliveryConfig delivery, DeliveryStore store,
                      Map<String, IntegrationConfig> integrations, AdminConfig admin, Duration backlogAge,
                      IntConsumer onListening, RelayMetrics metrics, boolean metricsHere) {
    this.backlogAge = backlogAge;
    this.metrics = metrics;
    this.metricsHere = metricsHere && metrics.enabled();
    this.config = config;
    this.integrations = integrations;
    this.admin = admin;
    this.delivery = delivery;
    this.store = store;
    this.deliveries = new Deliveries(store);
    this.onListening = onListening;
    integrations.forEach((name, integration) -> secrets.put(name, new SecretMatcher(integration.secret())));
  }

  @Override
  public Future<?> start() {
    BusCodec.registerAll(vertx.eventBus());
    health = new HealthReport(vertx, new RelayConditions(backlogAge), Clock.systemUTC());
    Router router = Router.router(vertx);
    router.post("/webhook/:integration/:secret").handler(this::receiveWebhook);
    router.route("/webhook/:integration/:secret").handler(this::methodNotAllowed);
    router.get("/health").handler(this::health);
    router.get("/health/ready").handler(this::ready);
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    if (admin.enabled()) {
      // Disabled, /admin is not there at all: it answers 404 like any unknown path.
      AdminRoutes adminRoutes = new AdminRoutes(vertx, admin, store, integrations, config.bodyLimitBytes(),
          (ctx, refusal) -> refuse(ctx, null, refusal));
      adminRoutes.mount(router);
      if (metricsHere) {
        // This port faces the internet: the metrics say how busy each integration is, so only for the admin.
        router.get("/metrics").handler(adminRoutes::authenticate).handler(new MetricsEndpoint(metrics));
      }
    }
    router.route().last().handler(this::notFound);
    router.errorHandler(500, this::internalError);

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(config.port())
        .setIdleTimeout(config.idleTimeoutSeconds())
        .setMaxHeaderSize(16 * 1024)
        .setMaxInitialLineLength(8 * 1024)
        // HTTP/1.1 only: BotHelp sends HTTP/1.1, and every limit here (body, deadline, discard) is written for it.
        .setHttp2ClearTextEnabled(false);
    return vertx.createHttpServer(options)
        .requestHandler(router)
        .invalidRequestHandler(this::invalidRequest)
        .listen()
        .onSuccess(s -> {
          server = s;
          onListening.accept(s.actualPort());
        });
  }

  private void receiveWebhook(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String integration = ctx.pathParam("integration");
    Instant answerBy = Instant.now().plusSeconds(config.requestTimeoutSeconds());
    RequestDeadline deadline = new RequestDeadline(vertx, config.requestTimeoutSeconds() * 1000L);
    try {
      authorize(integration, ctx.pathParam("secret"));
      PayloadParser.checkContentType(request.getHeader(HttpHeaders.CONTENT_TYPE));
      checkDeclaredLength(request.getHeader(HttpHeaders.CONTENT_LENGTH));
    } catch (Refusal refusal) {
      discardBody(request, deadline);
      refuse(ctx, knownOrNull(integration), refusal);
      return;
    }
    readBody(request, deadline)
        .onSuccess(body -> accept(ctx, integration, body.getBytes(), answerBy))
        .onFailure(failure -> {
          if (failure instanceof Refusal refusal && refusal.status() == 408) {
            // The client is still sending; answer, then hang up rather than wait for the rest.
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
            refuse(ctx, integration, refusal).onComplete(sent -> request.connection().close());
          } else if (failure instanceof Refusal refusal) {
            refuse(ctx, integration, refusal);
          } else if (!request.response().closed()) {
            // The client went away or the connection broke mid-body: there is nobody to answer.
            request.connection().close();
          }
        });
  }

  /**
   * Stores the webhook and answers 200 only once it is committed: from then on the relay, not BotHelp, is
   * responsible for it. Then it is driven at once (the fast path); the store's scheduler covers any loss.
   *
   * <p>The store has until {@code answerBy} (the request's deadline): a database that is down or silent gets the
   * sender a 503 by then, never a hang. The store withdraws the webhook if it is still queued shortly before, so
   * such a 503 is nearly always exact; one already taken into a commit that lands after all is driven at
   * once like any accepted webhook (its sender's resend is then a repeat of it).
   */
  private void accept(RoutingContext ctx, String integration, byte[] body, Instant answerBy) {
    JsonObject payload;
    try {
      payload = PayloadParser.parse(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE), body);
    } catch (Refusal refusal) {
      refuse(ctx, integration, refusal);
      return;
    }
    Instant now = Instant.now();
    Delivery received = new Delivery(ids.next(), integration, now, remoteAddress(ctx), payload);
    Future<Accepted> stored = deliveries.accept(new NewDelivery(received, BodyHash.of(integration, body)),
        delivery.repeatWindow(), now.plus(delivery.lease()), answerBy.minus(STORE_WITHDRAWAL_MARGIN));
    Promise<Accepted> inTime = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, Duration.between(now, answerBy).toMillis()),
        id -> inTime.tryFail(new NotConfirmed()));
    stored.onComplete(done -> {
      vertx.cancelTimer(timer);
      boolean answered = done.succeeded() ? inTime.tryComplete(done.result()) : inTime.tryFail(done.cause());
      if (!answered && done.succeeded()) {
        // Its sender was told 503 a moment ago, but the commit under way then went through: it is ours now.
        LOG.info("Delivery {} of integration {} was stored after its sender had been answered 503; it is delivered"
            + " (a resend of it is a repeat)", done.result().id(), integration);
        // Counted as accepted: it is stored and will be delivered, whatever its sender was told.
        metrics.webhookAccepted(integration, done.result().repeat());
        announce(received, done.result());
      }
    });
    inTime.future()
        .onSuccess(accepted -> {
          metrics.webhookAccepted(integration, accepted.repeat());
          announce(received, accepted);
          json(ctx, 200, new JsonObject().put("ok", true).put("id", accepted.id()));
        })
        .onFailure(failure -> {
          // Not stored, so not accepted: a 5xx tells the sender to try again.
          if (failure instanceof NotConfirmed) {
            refuse(ctx, integration, new Refusal(503, "store_unavailable", "The delivery store did not confirm the"
                + " webhook within " + config.requestTimeoutSeconds() + " s; send it again later (the same body"
                + " again is recognised and makes no second lead)."));
            return;
          }
          if (StoreUnavailable.is(failure)) {
            // The store has said once that the database is lost: one line per webhook would drown that line.
            LOG.debug("Could not store a webhook for integration {}: {}", integration, failure.getMessage());
          } else {
            LOG.error("Could not store a webhook for integration {}: {}", integration, failure.toString());
          }
          refuse(ctx, integration, new Refusal(503, "store_unavailable",
              "The webhook could not be stored; nothing was accepted. Send it again later."));
        });
  }

  /** A stored webhook: logged, and (unless it repeats an earlier one) mapped and driven at once. */
  private void announce(Delivery received, Accepted accepted) {
    JsonObject message = received.toJson();
    if (accepted.repeat()) {
      // The same body again: logged under the first delivery's id, and nothing new to deliver.
      message.put("id", accepted.id()).put("repeat", true);
    }
    vertx.eventBus().publish(Addresses.WEBHOOK_RECEIVED, message, LOCAL);
    if (!accepted.repeat()) {
      // The record itself (BusCodec): the mapper reads the payload this request parsed, not a copy.
      vertx.eventBus().send(Addresses.DELIVERY_MAP, received, LOCAL);
    }
  }

  /** The store neither stored the webhook nor refused it by the request's deadline. */
  private static final class NotConfirmed extends RuntimeException {
    NotConfirmed() {
      super("not confirmed by the request's deadline", null, false, false);
    }
  }

  private void authorize(String integration, String secret) {
    SecretMatcher matcher = secrets.get(integration);
    if (matcher == null) {
      throw new Refusal(404, "unknown_integration",
          "No integration named '" + PayloadParser.abbreviate(integration) + "' is configured.");
    }
    if (!matcher.matches(secret)) {
      throw new Refusal(401, "wrong_secret",
          "The secret in the webhook URL is wrong for integration '" + integration + "'.");
    }
  }

  private void checkDeclaredLength(String contentLength) {
    if (contentLength == null) {
      return;
    }
    try {
      if (Long.parseLong(contentLength.trim()) > config.bodyLimitBytes()) {
        throw tooLarge();
      }
    } catch (NumberFormatException e) {
      throw new Refusal(400, "bad_content_length", "The Content-Length header is not a number.");
    }
  }

  private Refusal tooLarge() {
    return new Refusal(413, "body_too_large",
        "The request body is larger than the limit of " + config.bodyLimitBytes() + " bytes.");
  }

  /**
   * Reads the whole body, failing with a 413 refusal as soon as it outgrows the limit (chunked bodies too) and
   * with a 408 refusal if it is not complete by the deadline. Once failed, no later byte can complete it, so a
   * timed-out or oversized body is never accepted.
   */
  private Future<Buffer> readBody(HttpServerRequest request, RequestDeadline deadline) {
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (body.length() + chunk.length() > config.bodyLimitBytes()) {
        discardBody(request, deadline);
        promise.tryFail(tooLarge());
      } else {
        body.appendBuffer(chunk);
      }
    });
    request.exceptionHandler(failure -> {
      deadline.cancel();
      promise.tryFail(failure);
    });
    request.endHandler(v -> {
      deadline.cancel();
      promise.tryComplete(body);
    });
    deadline.expired().onSuccess(v -> promise.tryFail(timedOut()));
    request.resume();
    return promise.future();
  }

  private Refusal timedOut() {
    return new Refusal(408, "request_timeout", "The request body was not complete within "
        + config.requestTimeoutSeconds() + " seconds of the request's start.");
  }

  /**
   * Reads what is left of a refused request's body into nowhere, cutting the client off past a bound or once the
   * request's deadline passes (the answer has been sent; a slow client must not hold the connection).
   */
  private void discardBody(HttpServerRequest request, RequestDeadline deadline) {
    if (request.isEnded()) {
      deadline.cancel();
      return;
    }
    long[] discarded = {0};
    request.handler(chunk -> {
      discarded[0] += chunk.length();
      if (discarded[0] > MAX_DISCARDED_BYTES) {
        request.handler(null);
        deadline.cancel();
        request.connection().close();
      }
    });
    request.exceptionHandler(failure -> deadline.cancel());
    request.endHandler(v -> deadline.cancel());
    deadline.expired().onSuccess(v -> {
      if (!request.isEnded()) {
        request.connection().close();
      }
    });
    request.resume();
  }

  /** Answers with the refusal and logs it: code, sentence, status and sender, never the body or the secret. */
  private Future<Void> refuse(RoutingContext ctx, String integration, Refusal refusal) {
    metrics.requestRefused(integration, refusal.code(), refusal.status());
    vertx.eventBus().publish(Addresses.REQUEST_REFUSED,
        ErrorEvent.refused(integration, refusal.code(), refusal.getMessage(), refusal.status(), remoteAddress(ctx))
            .toJson(), LOCAL);
    return json(ctx, refusal.status(), refusal.toJson());
  }

  private void methodNotAllowed(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.ALLOW, "POST");
    refuse(ctx, knownOrNull(ctx.pathParam("integration")), new Refusal(405, "method_not_allowed",
        "The webhook accepts POST only, got " + ctx.request().method().name() + "."));
  }

  private void notFound(RoutingContext ctx) {
    if (ctx.request().path() != null && ctx.request().path().startsWith("/health")) {
      // Most likely a load balancer's check on a path that is not served: every node then looks down to it.
      refuse(ctx, null, new Refusal(404, "not_found", "No such health check; a load balancer checks GET"
          + " /health/ready (also served: /health/live and /health)."));
      return;
    }
    refuse(ctx, null, new Refusal(404, "not_found",
        "Nothing here; BotHelp webhooks go to POST /webhook/{integration}/{secret}."));
  }

  /**
   * A request the HTTP decoder could not read, so the router never sees it. An unreadable Content-Length gets the
   * documented JSON refusal (the body's end is unknown, so the connection is closed after it); anything else gets
   * Vert.x's own answer (400, 413 or 431).
   */
  private void invalidRequest(HttpServerRequest request) {
    List<String> lengths = request.headers().getAll(HttpHeaders.CONTENT_LENGTH);
    boolean badLength = !lengths.isEmpty() && (lengths.stream().distinct().count() > 1
        || lengths.stream().anyMatch(length -> !length.trim().matches("[0-9]{1,18}")));
    if (!badLength) {
      HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER.handle(request);
      return;
    }
    Refusal refusal = new Refusal(400, "bad_content_length",
        "The Content-Length header is not one whole number, so the body's end is unknown.");
    metrics.requestRefused(null, refusal.code(), refusal.status());
    vertx.eventBus().publish(Addresses.REQUEST_REFUSED, ErrorEvent.refused(null, refusal.code(), refusal.getMessage(),
        refusal.status(), clientAddress(request)).toJson(), LOCAL);
    request.response().setStatusCode(400)
        .putHeader(HttpHeaders.CONTENT_TYPE, JSON_UTF8)
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(refusal.toJson().encode())
        .onComplete(sent -> request.connection().close());
  }

  /**
   * A handler failed: the sender gets a 500 and the failure, with its stack trace, goes to the log so that it can
   * be fixed. The path is logged without the webhook secret.
   */
  private void internalError(RoutingContext ctx) {
    LOG.error("Failed to handle {} {}", ctx.request().method(), pathWithoutSecret(ctx.request().path()),
        ctx.failure());
    json(ctx, 500, new JsonObject().put("ok", false).put("error", "internal_error")
        .put("message", "The relay failed to handle this request; it has been logged."));
  }

  private void health(RoutingContext ctx) {
    health.check().onSuccess(report -> json(ctx, "DOWN".equals(report.status()) ? 503 : 200, report.toJson()));
  }

  /** 200 while this node accepts webhooks, 503 when it cannot (store or logs unusable) or is stopping. */
  private void ready(RoutingContext ctx) {
    if (stopping) {
      json(ctx, 503, new JsonObject().put("status", "STOPPING"));
      return;
    }
    health.readiness().onSuccess(report -> json(ctx, "UP".equals(report.status()) ? 200 : 503,
        new JsonObject().put("status", report.status()).put("conditions", report.toJson().getJsonArray(
            "conditions"))));
  }

  private Future<Void> json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return Future.succeededFuture();
    }
    return ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, JSON_UTF8)
        .end(body.encode());
  }

  /** A request path as it may be logged: a webhook's secret segment is replaced by "***". */
  static String pathWithoutSecret(String path) {
    if (path == null || !path.startsWith("/webhook/")) {
      return path;
    }
    int secretStart = path.indexOf('/', "/webhook/".length());
    return secretStart < 0 ? path : path.substring(0, secretStart + 1) + "***";
  }

  /** Integration names from the URL are only echoed into logs once they are known to be configured. */
  private String knownOrNull(String integration) {
    return integration != null && secrets.containsKey(integration) ? integration : null;
  }

  private String remoteAddress(RoutingContext ctx) {
    return clientAddress(ctx.request());
  }

  /** The sender's address: the connection's, or the X-Forwarded-For client if it comes from a trusted proxy. */
  private String clientAddress(HttpServerRequest request) {
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    return config.trustedProxies().clientAddress(peer, request.headers().getAll("X-Forwarded-For"));
  }

  /**
   * Stops accepting connections at once, and lets the requests in flight finish (up to their request timeout): a
   * webhook being stored still gets its 200 and the store closes only after this.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    return server == null ? Future.succeededFuture()
        : server.shutdown(config.requestTimeoutSeconds(), java.util.concurrent.TimeUnit.SECONDS);
  }
}
