package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.metrics.RelayMetrics;
import io.leadrelay.store.TokenPair;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Calls Bitrix24 REST methods through a portal's inbound webhook: HTTP only, no queueing or retries. Every
 * failure is a failed future holding a {@link BitrixException} whose texts never contain the webhook's code.
 */
public final class BitrixClient {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");
  private static final int MAX_REDIRECTS = 3;

  /** Told the {@code time} block of every successful answer, for operating-time pacing. */
  public interface TimeListener {
    void observed(PortalConfig portal, String method, JsonObject time);
  }

  private final BitrixHttpConfig config;
  private final PortalExchange client;
  private final RedirectPolicy redirects;
  /** Portals that answered 302 (renamed): the configured webhook URL → where it lives now. */
  private final Map<String, PortalConfig> moved = new ConcurrentHashMap<>();
  private volatile RelayMetrics metrics = RelayMetrics.NONE;
  private volatile TimeListener timeListener = (portal, method, time) -> {
  };
  /** OAuth portals' tokens; null when the client was made without them (webhook portals only). */
  private final PortalTokens tokens;

  public BitrixClient(Vertx vertx, BitrixHttpConfig config) {
    this(vertx, config, null);
  }

  /** A client that can also call OAuth portals, with the tokens kept by {@code tokens}. */
  public BitrixClient(Vertx vertx, BitrixHttpConfig config, PortalTokens tokens) {
    this.config = config;
    this.tokens = tokens;
    // The portal queue caps lead requests; the spare connections keep look-ups from waiting behind them.
    this.client = new PortalExchange(vertx, config.connectTimeoutMs(), config.requestTimeoutMs(),
        config.maxAnswerBytes(), Math.max(2, config.maxConcurrentPerPortal() + 2));
    this.redirects = new RedirectPolicy(config.redirectHosts());
  }

  /**
   * Creates a lead with a crm.lead.add body ({@code {"fields":{..},"params":{..}}}) and yields its id.
   * A success answer without a usable id is {@link ErrorClass#AMBIGUOUS}: something may have been created.
   */
  public Future<Long> addLead(PortalConfig portal, JsonObject body) {
    metrics.leadsSent(portal, 1);
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
    if (portal.oauth() != null) {
      return oauthCall(portal, method, params);
    }
    return call(portal, moved.getOrDefault(portal.webhookUrl().toString(), portal), method, params, 0);
  }

  // --- OAuth application mode ---

  /**
   * A call to an OAuth portal: the access token goes in the JSON body's {@code auth} (never in the URL, which gets
   * logged). On 401 expired_token the tokens are refreshed once for all callers and the call is repeated once: an
   * expired token is refused before anything runs, so repeating even a crm.lead.add is safe.
   */
  private Future<JsonObject> oauthCall(PortalConfig portal, String method, JsonObject params) {
    if (tokens == null) {
      return Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.PORTAL_FAILURE, null, null,
          "this relay was started without an OAuth token store")));
    }
    return tokens.current(portal).compose(pair -> {
      if (pair.accessToken() == null) {
        // Only a refresh token was given: the first refresh makes the access token.
        return tokens.afterExpired(portal, pair, this::refresh).compose(fresh -> repeated(portal, method, params, fresh));
      }
      return withToken(portal, method, params, pair).recover(failure -> expired(failure)
          ? tokens.afterExpired(portal, pair, this::refresh).compose(fresh -> repeated(portal, method, params, fresh))
          : Future.failedFuture(failure));
    });
  }

  /** The call again with a new token: a second expiry means the new token is no good either. */
  private Future<JsonObject> repeated(PortalConfig portal, String method, JsonObject params, TokenPair fresh) {
    return withToken(portal, method, params, fresh).recover(failure -> Future.failedFuture(expired(failure)
        ? new BitrixException(new BitrixError(ErrorClass.PORTAL_FAILURE, 401, "expired_token",
        "the access token from a refresh was refused as expired too: re-authorise the application and send the new"
            + " token pair with " + tokens.adminCall(portal)))
        : failure));
  }

  private Future<JsonObject> withToken(PortalConfig portal, String method, JsonObject params, TokenPair pair) {
    JsonObject authorised = params.copy().put("auth", pair.accessToken());
    return call(portal, current(portal), method, authorised, 0).recover(failure -> Future.failedFuture(
        failure instanceof BitrixException known
            // A portal that echoed the request would put the token in an error text.
            ? new BitrixException(known.error().redact(pair.accessToken()).redact(pair.refreshToken()))
            : failure));
  }

  private static boolean expired(Throwable failure) {
    return failure instanceof BitrixException known && "expired_token".equalsIgnoreCase(known.error().code());
  }

  /**
   * One refresh_token grant at the application's OAuth server. Refusals (invalid_grant, invalid_client,
   * PAYMENT_REQUIRED, any 4xx) are {@link ErrorClass#PORTAL_FAILURE}: a person has to re-authorise. No answer or a
   * 5xx is {@link ErrorClass#REFUSED}: nothing was created and the old refresh token still works, so try later.
   * No text of the failure contains the client secret or a token (Vert.x puts the request URI, with its query, in
   * timeout messages).
   */
  private Future<TokenPair> refresh(OAuthApp app, String refreshToken) {
    String[] secrets = {app.clientSecret(), refreshToken};
    Future<PortalAnswer> sent;
    try {
      String url = app.refreshUrl().toString();
      sent = client.get(url + (url.contains("?") ? "&" : "?") + "grant_type=refresh_token"
          + "&client_id=" + encode(app.clientId())
          + "&client_secret=" + encode(app.clientSecret())
          + "&refresh_token=" + encode(refreshToken));
    } catch (RuntimeException e) {
      return Future.failedFuture(refreshFailure(ErrorClass.REFUSED, null, null,
          "the OAuth server could not be called (" + e.getClass().getSimpleName() + ")", secrets));
    }
    return sent.transform(ar -> {
      if (ar.failed()) {
        BitrixError transport = BitrixErrorClassifier.classify(ar.cause());
        return Future.failedFuture(refreshFailure(ErrorClass.REFUSED, null, null,
            "the OAuth server did not answer the token refresh; it is tried again later ("
                + transport.description() + ")", secrets));
      }
      PortalAnswer response = ar.result();
      int status = response.status();
      JsonObject json = parseObject(response.body());
      String code = json == null || json.getValue("error") == null ? null : String.valueOf(json.getValue("error"));
      if (status >= 200 && status < 300 && code == null && json != null
          && json.getValue("access_token") instanceof String access && !access.isBlank()
          && json.getValue("refresh_token") instanceof String renewed && !renewed.isBlank()) {
        Object expiresIn = json.getValue("expires_in");
        java.time.Instant expiresAt = expiresIn instanceof Number seconds
            ? java.time.Instant.now().plusSeconds(seconds.longValue()) : null;
        return Future.succeededFuture(new TokenPair(access, renewed, expiresAt));
      }
      String said = json == null ? "" : String.valueOf(json.getValue("error_description", ""));
      if (status >= 500 || (status >= 200 && status < 300 && code == null)) {
        return Future.failedFuture(refreshFailure(ErrorClass.REFUSED, status, code,
            "the OAuth server answered the token refresh without a new token pair (HTTP " + status
                + "); it is tried again later", secrets));
      }
      if (status >= 300 && status < 400) {
        // The refresh token and client secret go to the configured OAuth server only, never where it points.
        return Future.failedFuture(refreshFailure(ErrorClass.PORTAL_FAILURE, status, code,
            "the OAuth server answered the token refresh with a redirect (HTTP " + status + "); it is not followed,"
                + " so the tokens go nowhere else: check BITRIX_OAUTH_URL", secrets));
      }
      String why = code == null || code.isEmpty() ? "HTTP " + status : code;
      return Future.failedFuture(refreshFailure(ErrorClass.PORTAL_FAILURE, status, code,
          "the OAuth refresh token was refused (" + why + (said.isBlank() ? "" : ": " + said) + "): re-authorise"
              + " the application and send the new token pair with " + tokens.adminCall(
              PortalConfig.forApp(app)), secrets));
    });
  }

  private static BitrixException refreshFailure(ErrorClass errorClass, Integer status, String code,
                                                String description, String[] secrets) {
    BitrixError error = new BitrixError(errorClass, status, code, description);
    for (String secret : secrets) {
      error = error.redact(secret);
    }
    return new BitrixException(error);
  }

  // --- end OAuth application mode ---

  /** Where requests for a configured portal go now (itself, unless it answered a redirect). */
  public PortalConfig current(PortalConfig portal) {
    return moved.getOrDefault(portal.webhookUrl().toString(), portal);
  }

  /** Counts every request with its answer's status, and the leads each carried. */
  public void measure(RelayMetrics metrics) {
    this.metrics = metrics;
  }

  public void onTime(TimeListener listener) {
    this.timeListener = listener;
  }

  private Future<JsonObject> call(PortalConfig configured, PortalConfig portal, String method, JsonObject params,
                                  int redirects) {
    Future<PortalAnswer> sent;
    try {
      // One deadline for the whole exchange: a portal that stalls after its headers cannot hold a request slot.
      sent = client.postJson(portal.methodUrl(method), params.toBuffer());
    } catch (RuntimeException e) {
      return Future.failedFuture(failure(portal, BitrixErrorClassifier.classify(e)));
    }
    return sent.transform(ar -> {
      metrics.portalAnswered(configured, method, ar.succeeded() ? ar.result().status() : 0);
      if (ar.failed()) {
        return Future.failedFuture(failure(portal, BitrixErrorClassifier.classify(ar.cause())));
      }
      PortalAnswer response = ar.result();
      PortalConfig next = redirects < MAX_REDIRECTS ? movedTo(portal, method, response) : null;
      if (next != null) {
        String refused = this.redirects.refusal(configured.webhookUrl(), portal.webhookUrl(), next.webhookUrl());
        if (refused != null) {
          // Nothing was sent to the other host; a person has to decide: the portal pauses.
          return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.PORTAL_FAILURE, response.status(),
              null, refused)));
        }
        // A renamed portal answers 302. Re-POST the same body to the new address (a client following it by itself
        // would turn the POST into a GET), and send there from now on.
        moved.put(configured.webhookUrl().toString(), next);
        LOG.warn("Bitrix24 portal {} has moved to {}: following it, and sending there from now on; update the"
            + " configured webhook URL", configured.masked(), next.masked());
        return call(configured, next, method, params, redirects + 1);
      }
      return answer(configured, portal, method, response);
    });
  }

  /** The portal a redirect points to, or null if the answer is no redirect or points nowhere usable. */
  private static PortalConfig movedTo(PortalConfig portal, String method, PortalAnswer response) {
    int status = response.status();
    String location = response.location();
    if ((status != 301 && status != 302 && status != 307 && status != 308) || location == null) {
      return null;
    }
    try {
      java.net.URI target = java.net.URI.create(portal.methodUrl(method)).resolve(location.trim());
      String path = target.getPath();
      String suffix = "/" + method + ".json";
      String base = path.endsWith(suffix) ? path.substring(0, path.length() - suffix.length() + 1) : path;
      java.net.URI webhook = new java.net.URI(target.getScheme(), target.getUserInfo(), target.getHost(),
          target.getPort(), base, null, null);
      return portal.oauth() != null
          ? (base.endsWith("/rest/") ? portal.at(webhook) : null)
          : PortalConfig.parse("the redirect", webhook.toString());
    } catch (RuntimeException | java.net.URISyntaxException e) {
      return null;
    }
  }

  /**
   * Sends up to {@link BatchEncoder#MAX_COMMANDS} commands (name → command string from
   * {@link BatchEncoder#command}) as one {@code batch} call with {@code halt: 0}, and yields each command's
   * outcome. A failure of the batch request itself is the usual classified {@link BitrixException}; when that is
   * {@link ErrorClass#AMBIGUOUS} any command may have run, so the caller looks the leads up (see
   * {@link #findLeads}) and never re-sends the batch as it was. Commands that are not a valid batch (none, more
   * than 50, a bad name) fail the future with an {@link IllegalArgumentException} before anything is sent.
   */
  public Future<BatchResult> batch(PortalConfig portal, Map<String, String> commands) {
    JsonObject body;
    try {
      body = new BatchEncoder().batchBody(commands);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    List<String> names = List.copyOf(commands.keySet());
    metrics.leadsSent(portal, names.size());
    return call(portal, "batch", body)
        .map(answer -> BatchResult.parse(answer, names).redact(portal.secretCode()));
  }

  /**
   * Finds the leads earlier attempts of several deliveries may have created, with one crm.lead.list call filtered
   * by ORIGINATOR_ID and {@code @ORIGIN_ID} (any of the ids), following its pages of 50. Yields ORIGIN_ID → lead
   * id for the ids that have a lead (the oldest lead when there are several); an id missing from the map has
   * none. No ids: an empty map without a call, since an empty {@code @} filter is not a safe question to ask.
   * A page without a readable lead list or lead ID fails as {@link ErrorClass#AMBIGUOUS}: a partial answer must
   * not make a lead look absent and be added twice.
   */
  public Future<Map<String, Long>> findLeads(PortalConfig portal, String originatorId,
                                             Collection<String> originIds) {
    Set<String> wanted = new LinkedHashSet<>();
    for (String originId : originIds) {
      if (originId != null) {
        wanted.add(originId);
      }
    }
    if (wanted.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    JsonObject params = new JsonObject()
        .put("filter", new JsonObject()
            .put("ORIGINATOR_ID", originatorId)
            .put("@ORIGIN_ID", new io.vertx.core.json.JsonArray(List.copyOf(wanted))))
        .put("select", new io.vertx.core.json.JsonArray().add("ID").add("ORIGIN_ID"))
        // A stable order keeps the pages from overlapping and makes "the oldest lead" the one kept.
        .put("order", new JsonObject().put("ID", "ASC"));
    return leadPages(portal, params, wanted, 0, 1, new LinkedHashMap<>());
  }

  /** More pages than this for one batch's ids means the portal is not answering the question asked. */
  private static final int MAX_LEAD_PAGES = 100;

  private Future<Map<String, Long>> leadPages(PortalConfig portal, JsonObject params, Set<String> wanted,
                                              long start, int page, Map<String, Long> found) {
    return call(portal, "crm.lead.list", params.copy().put("start", start)).compose(answer -> {
      if (!(answer.getValue("result") instanceof io.vertx.core.json.JsonArray leads)) {
        return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.AMBIGUOUS, 200, null,
            "crm.lead.list answered without a list of leads")));
      }
      for (Object row : leads) {
        Long id = row instanceof JsonObject lead ? leadId(lead.getValue("ID")) : null;
        if (id == null) {
          return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.AMBIGUOUS, 200, null,
              "crm.lead.list answered a lead without an ID")));
        }
        Object originId = ((JsonObject) row).getValue("ORIGIN_ID");
        if (originId != null && wanted.contains(String.valueOf(originId))) {
          found.putIfAbsent(String.valueOf(originId), id);
        }
      }
      Long next = leadId(answer.getValue("next"));
      if (next == null || next <= start || leads.isEmpty()) {
        return Future.succeededFuture(Collections.unmodifiableMap(found));
      }
      if (page >= MAX_LEAD_PAGES) {
        return Future.failedFuture(failure(portal, new BitrixError(ErrorClass.AMBIGUOUS, 200, null,
            "crm.lead.list kept answering more pages than " + MAX_LEAD_PAGES)));
      }
      return leadPages(portal, params, wanted, next, page + 1, found);
    });
  }

  public void close() {
    client.close();
  }

  private Future<JsonObject> answer(PortalConfig configured, PortalConfig portal, String method,
                                    PortalAnswer response) {
    int status = response.status();
    Buffer body = response.body();
    if (status >= 200 && status < 300) {
      JsonObject json = parseObject(body);
      if (json != null && json.containsKey("result") && !json.containsKey("error")) {
        if (json.getValue("time") instanceof JsonObject time) {
          timeListener.observed(configured, method, time);
        }
        return Future.succeededFuture(json);
      }
    }
    return Future.failedFuture(failure(portal,
        BitrixErrorClassifier.classify(status, response.contentType(), body)));
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

  private static String encode(String value) {
    return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8);
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
