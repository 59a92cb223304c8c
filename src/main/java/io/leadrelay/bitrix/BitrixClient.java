package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.PortalConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * Calls Bitrix24 REST methods through a portal's inbound webhook: HTTP only, no queueing or retries. Every
 * failure is a failed future holding a {@link BitrixException} whose texts never contain the webhook's code.
 */
public final class BitrixClient {

  /**
   * Idle pooled connections are dropped well before typical server keep-alive limits, so a request rarely
   * races the server closing the connection under it (which would make its outcome ambiguous).
   */
  private static final int KEEP_ALIVE_SECONDS = 15;

  private final BitrixHttpConfig config;
  private final WebClient client;

  public BitrixClient(Vertx vertx, BitrixHttpConfig config) {
    this.config = config;
    WebClientOptions options = new WebClientOptions()
        .setConnectTimeout(config.connectTimeoutMs())
        // A redirect must never be followed automatically: a POST would be replayed as a GET.
        .setFollowRedirects(false)
        .setKeepAlive(true)
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS)
        .setUserAgent("LeadRelay");
    // The portal queue caps lead requests; the spare connections keep look-ups from waiting behind them.
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(Math.max(2, config.maxConcurrentPerPortal() + 2));
    this.client = WebClient.create(vertx, options, pool);
  }

  /**
   * Creates a lead with a crm.lead.add body ({@code {"fields":{..},"params":{..}}}) and yields its id.
   * A success answer without a usable id is {@link ErrorClass#AMBIGUOUS}: something may have been created.
   */
  public Future<Long> addLead(PortalConfig portal, JsonObject body) {
    return call(portal, "crm.lead.add", body).compose(answer -> {
      Long id = leadId(answer.getValue("result"));
      if (id == null) {
        return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.AMBIGUOUS, 200, null,
            "crm.lead.add answered without a lead id: " + String.valueOf(answer.getValue("result")))));
      }
      return Future.succeededFuture(id);
    });
  }

  /**
   * Finds the lead an earlier attempt of a delivery may have created, by the ORIGINATOR_ID + ORIGIN_ID every lead
   * carries; yields its id, or null when there is none (then it is safe to add it). A look-up is a read: its
   * failures are classified like any call's, but it never creates anything.
   */
  public Future<Long> findLead(PortalConfig portal, String originatorId, String originId) {
    JsonObject params = new JsonObject()
        .put("filter", new JsonObject().put("ORIGINATOR_ID", originatorId).put("ORIGIN_ID", originId))
        .put("select", new io.vertx.core.json.JsonArray().add("ID"));
    return call(portal, "crm.lead.list", params).compose(answer -> {
      Object result = answer.getValue("result");
      if (!(result instanceof io.vertx.core.json.JsonArray leads)) {
        return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.AMBIGUOUS, 200, null,
            "crm.lead.list answered without a list of leads")));
      }
      if (leads.isEmpty()) {
        return Future.succeededFuture((Long) null);
      }
      Object first = leads.getValue(0);
      Long id = first instanceof JsonObject lead ? leadId(lead.getValue("ID")) : null;
      return id != null ? Future.succeededFuture(id) : Future.failedFuture(failure(portal,
          new BitrixError(ErrorClass.AMBIGUOUS, 200, null, "crm.lead.list answered a lead without an ID")));
    });
  }

  /**
   * Calls any REST method with JSON parameters and yields Bitrix24's whole answer ({@code result}, and where the
   * method has them {@code total}, {@code next}, {@code time}). Success is a 2xx JSON object with a
   * {@code result}; anything else fails with a classified error.
   */
  public Future<JsonObject> call(PortalConfig portal, String method, JsonObject params) {
    Future<HttpResponse<Buffer>> sent;
    try {
      sent = client.postAbs(portal.methodUrl(method))
          // Waiting for a connection: nothing has been sent yet, so running out of time here is harmless.
          .connectTimeout(config.connectTimeoutMs())
          // Silence after sending: the portal may be creating the lead, so this outcome is ambiguous.
          .idleTimeout(config.requestTimeoutMs())
          .putHeader("Accept", "application/json")
          .sendJsonObject(params);
    } catch (RuntimeException e) {
      return Future.failedFuture(failure(portal, BitrixErrorClassifier.classify(e)));
    }
    return sent.transform(ar -> ar.succeeded()
        ? answer(portal, ar.result())
        : Future.failedFuture(failure(portal, BitrixErrorClassifier.classify(ar.cause()))));
  }

  public void close() {
    client.close();
  }

  private static Future<JsonObject> answer(PortalConfig portal, HttpResponse<Buffer> response) {
    int status = response.statusCode();
    Buffer body = response.body();
    if (status >= 200 && status < 300) {
      JsonObject json = parseObject(body);
      if (json != null && json.containsKey("result") && !json.containsKey("error")) {
        return Future.succeededFuture(json);
      }
    }
    return Future.failedFuture(failure(portal,
        BitrixErrorClassifier.classify(status, response.getHeader("Content-Type"), body)));
  }

  private static BitrixException failure(PortalConfig portal, BitrixError error) {
    return new BitrixException(error.redact(portal.secretCode()));
  }

  private static JsonObject parseObject(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private static Long leadId(Object result) {
    if (result instanceof Number number && number.longValue() > 0 && number.doubleValue() == number.longValue()) {
      return number.longValue();
    }
    if (result instanceof String text && text.trim().matches("\\d{1,18}")) {
      long id = Long.parseLong(text.trim());
      return id > 0 ? id : null;
    }
    return null;
  }
}
