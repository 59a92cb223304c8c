package io.leadrelay.http;

import io.leadrelay.config.CrmTarget;
import io.leadrelay.crm.DealFields;
import io.leadrelay.crm.RepeatPreview;
import io.leadrelay.config.AdminConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.OAuthApp;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.mapping.LeadMapper;
import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.TokenPair;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The operator's view of deliveries under {@code /admin}: list and search them, look at one (with the fields the
 * current mapping would send), and replay DEAD or stuck ones, one or in bulk (a filtered bulk replay is a
 * {@link ReplayJobs} job); the OAuth token pair of an integration's portal; and, in classes of their own, previews
 * ({@link PreviewRoute}), portals ({@link PortalRoutes}) and the page itself ({@link AdminPage}). Replaying only
 * makes the stored row due now; the delivery scheduler sends it on its next sweep, so an admin call can never race
 * the scheduler into a second lead.
 * Every call needs {@code Authorization: Bearer <ADMIN_TOKEN>}.
 */
final class AdminRoutes {

  /** Who did what from where, one line per admin action; kept apart from the service's own diagnostics. */
  private static final Logger AUDIT = LoggerFactory.getLogger("io.leadrelay.admin");
  private static final String JSON_UTF8 = "application/json; charset=utf-8";
  private static final String BEARER = "bearer ";
  /** Admin calls carry no body; one that sends a big one anyway is cut off rather than read. */
  private static final long MAX_IGNORED_BODY = 64 * 1024;
  private static final String TOKENS_PATH = "/admin/portals/:integration/tokens";
  /** A token pair is well under a kilobyte. */
  private static final long MAX_TOKENS_BODY = 16 * 1024;

  /** How the HTTP verticle answers and records a refusal (error.log), shared with the webhook path. */
  @FunctionalInterface
  interface Refuser {
    Future<Void> refuse(RoutingContext ctx, Refusal refusal);
  }

  private final SecretMatcher token;
  private final DeliveryStore store;
  private final Deliveries deliveries;
  private final Map<String, LeadMapper> mappers = new HashMap<>();
  /** Integrations with {@code target: deal}: their preview shows the contact and the deal as they will be sent. */
  private final java.util.Set<String> dealTargets = new java.util.HashSet<>();
  private final Refuser refuser;
  private final Map<String, IntegrationConfig> integrations;

  private final DeliveryView view;
  private final ReplayJobs jobs;
  private final PreviewRoute preview;
  private final PortalRoutes portals;
  private final long bodyLimit;

  /**
   * @param admin     must be enabled
   * @param bodyLimit the webhook's body limit, which a previewed body has too
   */
  AdminRoutes(Vertx vertx, AdminConfig admin, DeliveryStore store, Map<String, IntegrationConfig> integrations,
              long bodyLimit, Refuser refuser) {
    this.token = new SecretMatcher(admin.token());
    this.store = store;
    this.deliveries = new Deliveries(store);
    this.refuser = refuser;
    this.integrations = Map.copyOf(integrations);
    this.bodyLimit = bodyLimit;
    integrations.forEach((name, integration) -> mappers.put(name, new LeadMapper(integration.mapping())));
    this.view = new DeliveryView(integrations);
    this.jobs = new ReplayJobs(vertx, store);
    this.preview = new PreviewRoute(integrations);
    this.portals = new PortalRoutes(vertx, store, integrations);
    integrations.forEach((name, integration) -> {
      if (integration.target() == CrmTarget.DEAL) {
        dealTargets.add(name);
      }
    });
  }

  void mount(Router router) {
    // The page's own files need no token: it asks for one.
    AdminPage.mount(router);
    // OAuth tokens and previews: the admin calls with a body. Vert.x Web reads bodies before authentication
    // handlers run, so the body is bounded small; a refused caller's body is dropped unread by anyone.
    router.post(TOKENS_PATH).handler(BodyHandler.create(false).setBodyLimit(MAX_TOKENS_BODY))
        .handler(ctx -> authenticate(ctx, false)).handler(this::saveTokens);
    router.post("/admin/preview/:integration").handler(BodyHandler.create(false).setBodyLimit(bodyLimit))
        .handler(ctx -> authenticate(ctx, false)).handler(preview::handle);
    router.route("/admin/*").handler(this::authenticate);
    router.get("/admin/deliveries").handler(this::list);
    router.post("/admin/deliveries/retry").handler(this::retryAll);
    router.get("/admin/deliveries/:id").handler(this::show);
    router.post("/admin/deliveries/:id/retry").handler(this::retry);
    router.get("/admin/jobs/:id").handler(this::job);
    portals.mount(router);
  }

  /** Lets the request on only with the admin token; also guards /metrics on the webhook port. */
  void authenticate(RoutingContext ctx) {
    authenticate(ctx, true);
  }

  /** {@code dropBody}: the route reads no body, so one that comes anyway is drained (it always is if refused). */
  private void authenticate(RoutingContext ctx, boolean dropBody) {
    if (dropBody) {
      ignoreBody(ctx.request());
    }
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    String presented = header != null && header.length() > BEARER.length()
        && header.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)
        ? header.substring(BEARER.length()).trim() : null;
    if (token.matches(presented)) {
      ctx.next();
      return;
    }
    if (!dropBody) {
      ignoreBody(ctx.request());
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    // The sentence says which case it was, never what was presented.
    refuser.refuse(ctx, new Refusal(401, "unauthorized", presented == null
        ? "The admin API needs the header Authorization: Bearer <ADMIN_TOKEN>."
        : "The admin token is wrong."));
  }

  private void list(RoutingContext ctx) {
    DeliverySearch query;
    try {
      query = DeliverySearch.parse(name -> param(ctx, name));
    } catch (IllegalArgumentException e) {
      badRequest(ctx, e.getMessage());
      return;
    }
    DeliveryFilter filter = query.filter();
    // One more than asked tells whether another page exists, so "next" is null on the last page.
    store.search(filter, query.limit() + 1)
        .onSuccess(records -> {
          List<DeliveryRecord> page = records.subList(0, Math.min(query.limit(), records.size()));
          String next = records.size() > query.limit() ? page.get(page.size() - 1).delivery().id() : null;
          // What was searched for is not logged: it is a subscriber's phone or e-mail.
          audit(ctx, "listed " + (filter.state() == null ? "" : filter.state() + " ") + "deliveries"
              + (filter.onlyState() ? "" : " (filtered)")
              + (filter.beforeId() == null ? "" : " before " + filter.beforeId()), page.size());
          json(ctx, 200, new JsonObject()
              .put("deliveries", new JsonArray(page.stream().map(view::row).toList()))
              .put("next", next));
        })
        .onFailure(failure -> storeFailed(ctx, failure));
  }

  private void job(RoutingContext ctx) {
    JsonObject job = jobs.get(ctx.pathParam("id"));
    if (job == null) {
      json(ctx, 404, error("not_found", "No job with that id on this node (jobs are kept in memory by the node"
          + " that runs them, until it restarts)."));
      return;
    }
    json(ctx, 200, job);
  }

  private void show(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    store.find(id)
        .onSuccess(found -> {
          if (found.isEmpty()) {
            notFound(ctx, id);
            return;
          }
          DeliveryRecord record = found.get();
          audit(ctx, "looked at delivery " + id, 1);
          JsonObject mapped = mappedFields(record);
          JsonObject detail = view.detail(record).put("mappedFields", mapped);
          if (mapped != null && dealTargets.contains(record.delivery().integration())) {
            DealFields.Split split = DealFields.split(mapped);
            detail.put("mappedDeal", new JsonObject().put("contact", split.contact()).put("deal", split.deal()));
          }
          // Under a repeat policy: what the policy would do with this lead (nothing is added for "new").
          IntegrationConfig integration = integrations.get(record.delivery().integration());
          JsonObject repeat = integration == null ? null
              : RepeatPreview.of(integration.repeat(), id, mapped);
          json(ctx, 200, repeat == null ? detail : detail.put("repeat", repeat));
        })
        .onFailure(failure -> storeFailed(ctx, failure));
  }

  /**
   * What the mapping configured now would send for this delivery, so an operator sees the effect of a mapping fix
   * before replaying. Null when the delivery's integration is no longer configured.
   */
  private JsonObject mappedFields(DeliveryRecord record) {
    LeadMapper mapper = mappers.get(record.delivery().integration());
    // A quarantined delivery has no payload to map (its stored text is shown as unreadablePayload instead).
    return mapper == null || record.delivery().payload() == null ? null
        : mapper.fields(record.delivery().payload(), record.delivery().id());
  }

  private void retry(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    deliveries.replay(id, Instant.now())
        .onSuccess(retried -> {
          if (retried) {
            audit(ctx, "replayed delivery " + id, 1);
            json(ctx, 202, new JsonObject().put("ok", true).put("id", id).put("state", DeliveryState.PENDING.name()));
            return;
          }
          // Not replayed: either there is no such delivery or it is DELIVERED; the answer differs.
          store.find(id)
              .onSuccess(found -> found.ifPresentOrElse(record -> notRetryable(ctx, record), () -> notFound(ctx, id)))
              .onFailure(failure -> storeFailed(ctx, failure));
        })
        .onFailure(failure -> storeFailed(ctx, failure));
  }

  /**
   * Every DEAD (or PENDING) delivery at once in one statement; or, with a filter (integration, from, to, q), those
   * matching it as a job whose progress {@code GET /admin/jobs/{id}} shows.
   */
  private void retryAll(RoutingContext ctx) {
    DeliveryFilter filter;
    try {
      filter = DeliverySearch.replayFilter(name -> param(ctx, name));
    } catch (IllegalArgumentException e) {
      badRequest(ctx, e.getMessage());
      return;
    }
    DeliveryState state = filter.state();
    if (!filter.onlyState()) {
      jobs.start(filter, "replay of the " + state + " deliveries matching a filter")
          .onSuccess(job -> {
            audit(ctx, "started job " + job.getString("id") + " replaying filtered " + state + " deliveries",
                job.getLong("total").intValue());
            ctx.response().putHeader(HttpHeaders.LOCATION, "/admin/jobs/" + job.getString("id"));
            json(ctx, 202, new JsonObject().put("ok", true).put("job", job));
          })
          .onFailure(failure -> {
            if (failure instanceof ReplayJobs.TooManyJobs busy) {
              json(ctx, 429, error("too_many_jobs", busy.getMessage()));
            } else {
              storeFailed(ctx, failure);
            }
          });
      return;
    }
    deliveries.replayAll(state, Instant.now())
        .onSuccess(count -> {
          audit(ctx, "replayed every " + state + " delivery", count);
          json(ctx, 200, new JsonObject().put("ok", true).put("state", state.name()).put("retried", count));
        })
        .onFailure(failure -> storeFailed(ctx, failure));
  }

  // --- OAuth application tokens ---

  /**
   * Saves an OAuth token pair for an integration's portal (after a re-authorisation, or for the first time). It
   * touches nothing else: a portal paused for lack of working tokens picks them up at its next probe.
   */
  private void saveTokens(RoutingContext ctx) {
    String name = ctx.pathParam("integration");
    IntegrationConfig integration = integrations.get(name);
    if (integration == null) {
      json(ctx, 404, error("not_found", "No integration named '" + PayloadParser.abbreviate(name) + "'."));
      return;
    }
    OAuthApp app = integration.portal().map(PortalConfig::oauth).orElse(null);
    if (app == null) {
      badRequest(ctx, "Integration '" + name + "' does not use an OAuth application ("
          + (integration.dryRun() ? "it runs dry" : "it calls Bitrix24 through a webhook") + "): it takes no tokens.");
      return;
    }
    TokenPair pair;
    try {
      pair = tokenPair(ctx.body().buffer());
    } catch (IllegalArgumentException e) {
      badRequest(ctx, e.getMessage());
      return;
    }
    store.saveTokens(app.portalKey(), pair)
        .onSuccess(v -> {
          audit(ctx, "saved OAuth tokens for integration " + name, 1);
          json(ctx, 200, new JsonObject().put("ok", true).put("integration", name).put("portal", app.portalKey())
              .put("message", "Saved. Calls use them from now on; if the portal is paused, its next probe picks"
                  + " them up and it resumes by itself."));
        })
        .onFailure(failure -> storeFailed(ctx, failure));
  }

  /** Reads {@code {"accessToken":..,"refreshToken":..,"expiresIn":3600}}; only the refresh token is required. */
  static TokenPair tokenPair(io.vertx.core.buffer.Buffer body) {
    JsonObject json;
    try {
      json = body == null || body.length() == 0 ? null : new JsonObject(body);
    } catch (RuntimeException e) {
      json = null;
    }
    if (json == null) {
      throw new IllegalArgumentException("Send a JSON object: {\"accessToken\":\"..\",\"refreshToken\":\"..\","
          + "\"expiresIn\":3600}.");
    }
    Object refresh = json.getValue("refreshToken");
    Object access = json.getValue("accessToken");
    Object expiresIn = json.getValue("expiresIn");
    if (!(refresh instanceof String refreshToken) || refreshToken.isBlank()) {
      throw new IllegalArgumentException("refreshToken is missing: it is the token that gets the next pair.");
    }
    if (access != null && !(access instanceof String)) {
      throw new IllegalArgumentException("accessToken must be a string.");
    }
    if (expiresIn != null && !(expiresIn instanceof Number seconds && seconds.longValue() > 0)) {
      throw new IllegalArgumentException("expiresIn must be a positive number of seconds.");
    }
    String accessToken = access == null || ((String) access).isBlank() ? null : ((String) access).trim();
    Instant expiresAt = expiresIn == null ? null : Instant.now().plusSeconds(((Number) expiresIn).longValue());
    return new TokenPair(accessToken, refreshToken.trim(), expiresAt);
  }

  // --- end OAuth application tokens ---

  private void notRetryable(RoutingContext ctx, DeliveryRecord record) {
    String lead = record.leadId() == null ? "" : " (lead " + record.leadId() + ")";
    json(ctx, 409, error("not_retryable", "Delivery " + record.delivery().id() + " is " + record.state() + lead
        + ": replaying it would create a second lead."));
  }

  private void notFound(RoutingContext ctx, String id) {
    json(ctx, 404, error("not_found", "No delivery with id '" + PayloadParser.abbreviate(id) + "'."));
  }

  private void badRequest(RoutingContext ctx, String message) {
    json(ctx, 400, error("bad_request", message));
  }

  private void storeFailed(RoutingContext ctx, Throwable failure) {
    AUDIT.warn("Admin request {} {} failed in the delivery store: {}", ctx.request().method(), ctx.request().path(),
        failure.toString());
    json(ctx, 503, error("store_unavailable", "The delivery store could not answer; try again."));
  }

  static void audit(RoutingContext ctx, String what, int count) {
    AUDIT.info("Admin {} {}: {}", remoteAddress(ctx), what, count);
  }

  static JsonObject error(String code, String message) {
    return new JsonObject().put("ok", false).put("error", code).put("message", message);
  }

  private static String param(RoutingContext ctx, String name) {
    List<String> values = ctx.queryParam(name);
    return values.isEmpty() ? null : values.get(0);
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON_UTF8).end(body.encode());
    }
  }

  /** Lets a stray body drain so the answer can be read, and hangs up on one that keeps coming. */
  private static void ignoreBody(HttpServerRequest request) {
    if (request.isEnded()) {
      return;
    }
    long[] seen = {0};
    request.handler(chunk -> {
      seen[0] += chunk.length();
      if (seen[0] > MAX_IGNORED_BODY) {
        request.handler(null);
        request.connection().close();
      }
    });
    request.resume();
  }

  private static String remoteAddress(RoutingContext ctx) {
    return ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
  }
}
