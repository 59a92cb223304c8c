package io.leadrelay.testing;

import io.leadrelay.ExactJson;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Bitrix24 portal for tests, reached through an inbound webhook: POST {@code /rest/1/<code>/<method>.json}
 * with a JSON body. It checks the code, creates leads with increasing ids (crm.lead.add), finds them again
 * (crm.lead.list, filters on exact fields and {@code @FIELD} lists) and answers errors the way the real portal
 * does. Scripted {@link Reply replies} make the next crm.lead.add calls fail in any way a real portal can;
 * {@link #faults(Supplier) faults} make any share of all later ones fail, for load and crash tests.
 */
public final class FakeBitrixPortal {

  /**
   * One request as the portal saw it; {@code method} is the REST method, e.g. {@code crm.lead.add}; {@code atNanos}
   * when it arrived ({@link System#nanoTime()}), for benchmarks that lay requests out against the bucket.
   */
  public record Call(String method, String path, JsonObject body, long atNanos) {
    public Call(String method, String path, JsonObject body) {
      this(method, path, body, System.nanoTime());
    }
  }

  /** A scripted answer to one crm.lead.add call. */
  public record Reply(Kind kind, int status, String code, String description, String location) {

    enum Kind { CREATED, ERROR, HTML, EMPTY, DROP, CREATE_THEN_DROP, HANG, REDIRECT, CREATE_THEN_STALL,
      CREATE_THEN_TRICKLE, CREATE_THEN_HUGE }

    /** The normal answer: the lead is created, 200 {@code {"result":id,"time":{..}}}. */
    public static Reply created() { return new Reply(Kind.CREATED, 200, null, null, null); }

    /** A Bitrix24 error body {@code {"error":code,"error_description":description}}; code may be "". */
    public static Reply error(int status, String code, String description) {
      return new Reply(Kind.ERROR, status, code, description, null);
    }

    /** A web server's HTML error page (text/html), as under overload or on a wrong URL. */
    public static Reply html(int status) { return new Reply(Kind.HTML, status, null, null, null); }

    /** The status with no body at all. */
    public static Reply empty(int status) { return new Reply(Kind.EMPTY, status, null, null, null); }

    /** Closes the connection without answering; nothing is created. */
    public static Reply dropConnection() { return new Reply(Kind.DROP, 0, null, null, null); }

    /** Creates the lead, then closes the connection without answering. */
    public static Reply createThenDrop() { return new Reply(Kind.CREATE_THEN_DROP, 0, null, null, null); }

    /** Never answers; nothing is created. */
    public static Reply hang() { return new Reply(Kind.HANG, 0, null, null, null); }

    /** 302 to {@code location}, as a renamed portal answers. */
    public static Reply redirect(String location) { return new Reply(Kind.REDIRECT, 302, null, null, location); }

    /** Creates the lead (every lead of a batch), sends 200 and its headers, then nothing, never ending. */
    public static Reply createThenStall() { return new Reply(Kind.CREATE_THEN_STALL, 200, null, null, null); }

    /** Creates the lead(s), sends 200 and its headers, then one byte of JSON every 100 ms, never ending. */
    public static Reply createThenTrickle() { return new Reply(Kind.CREATE_THEN_TRICKLE, 200, null, null, null); }

    /**
     * Creates the lead(s), then answers 200 with an endless body (generated as it is sent, never held in memory)
     * until the client closes the connection or 4 GiB have gone; {@link #hugeBytesSent()} counts what was sent.
     */
    public static Reply createThenHuge() { return new Reply(Kind.CREATE_THEN_HUGE, 200, null, null, null); }
  }

  private record Lead(long id, JsonObject fields) {
  }

  private static final Pattern REST_PATH = Pattern.compile("^/rest/(\\d+)/([^/]+)/([^/]+?)(?:\\.json)?$");
  private static final int PAGE = 50;
  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssXXX");

  private final HttpServer server;
  private final String code;
  /** The loopback address it listens on: 127.0.0.1, or e.g. 127.0.0.2 for "another host". */
  private String host = "127.0.0.1";
  private final java.util.concurrent.atomic.AtomicLong hugeBytes = new java.util.concurrent.atomic.AtomicLong();
  private final List<Lead> leads = new CopyOnWriteArrayList<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Queue<Reply> script = new ConcurrentLinkedQueue<>();
  private volatile Supplier<Reply> faults = () -> null;
  private long nextId = 1;
  private volatile FakeLimits limits;
  private volatile java.util.function.Consumer<JsonObject> onLead = fields -> {
  };
  private final java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger blocks = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.Set<String> numberFields = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Vertx vertx;
  /** Comments, contacts, look-ups and updates: the CRM the repeat policies use. */
  private final FakeCrm crm = new FakeCrm(this::leadFields);

  private FakeBitrixPortal(Vertx vertx, String code) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer();
    this.code = code;
    server.requestHandler(this::handle);
  }

  /** Starts a portal on 127.0.0.1 and a free port. */
  public static Future<FakeBitrixPortal> start(Vertx vertx) {
    return start(vertx, 0, randomCode());
  }

  /**
   * Starts a portal on a given port with a given code: a portal that "comes back up" where a relay already points
   * (see {@link #unusedWebhookUrl}).
   */
  public static Future<FakeBitrixPortal> start(Vertx vertx, int port, String code) {
    return start(vertx, "127.0.0.1", port, code);
  }

  /**
   * Starts a portal on another loopback address (Linux routes all of 127.0.0.0/8 to the loopback interface): a
   * different host for redirect tests, e.g. {@code 127.0.0.2}.
   */
  public static Future<FakeBitrixPortal> start(Vertx vertx, String host, int port, String code) {
    FakeBitrixPortal portal = new FakeBitrixPortal(vertx, code);
    portal.host = host;
    return portal.server.listen(port, host).map(server -> portal);
  }

  private volatile double[] batchOperating;

  /**
   * From now on every batch answer's own {@code time} block says the batch call has spent {@code seconds} of its
   * operating time, and that its window frees at {@code resetAt} (third-party measurements report the time charged
   * to {@code batch} itself).
   */
  public void batchOperating(double seconds, java.time.Instant resetAt) {
    this.batchOperating = new double[] {seconds, resetAt.getEpochSecond()};
  }

  /** Bytes of body sent so far by {@link Reply#createThenHuge()} answers. */
  public long hugeBytesSent() {
    return hugeBytes.get();
  }

  /** A webhook URL on a port where nothing listens yet (connections are refused), and its code. */
  public static String unusedWebhookUrl(int port, String code) {
    return "http://127.0.0.1:" + port + "/rest/1/" + code + "/";
  }

  /** A port that was free a moment ago. */
  public static int freePort() {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public static String newCode() {
    return randomCode();
  }

  /** The inbound webhook URL, e.g. {@code http://127.0.0.1:4711/rest/1/<code>/}. */
  public String webhookUrl() {
    return "http://" + host + ":" + server.actualPort() + "/rest/1/" + code + "/";
  }

  /** The secret code in {@link #webhookUrl()}, to assert that it never leaks. */
  public String code() {
    return code;
  }

  /** The fields of every lead created so far, in order (copies). */
  public List<JsonObject> leads() {
    return leads.stream().map(lead -> lead.fields().copy()).toList();
  }

  /** Timeline comments, contacts, duplicate search and lead updates of this portal. */
  public FakeCrm crm() {
    return crm;
  }

  /** A lead's stored fields (the live object, for updates), or null. */
  private JsonObject leadFields(long id) {
    return leads.stream().filter(lead -> lead.id() == id).map(Lead::fields).findFirst().orElse(null);
  }

  /** The ids of every lead created so far, in the same order as {@link #leads()}. */
  public List<Long> leadIds() {
    return leads.stream().map(Lead::id).toList();
  }

  /**
   * Enforces a real portal's limits from now on: the request bucket ({@code burst}, {@code ratePerSecond}) and
   * crm.lead.add's operating time ({@code costPerLead} seconds per lead, blocked past {@code operatingLimit} within a
   * sliding window of {@code windowMillis}; 10 minutes on a real portal, shorter in tests).
   */
  public void limits(int burst, double ratePerSecond, double operatingLimit, long windowMillis, double costPerLead) {
    this.limits = new FakeLimits(burst, ratePerSecond, operatingLimit, windowMillis, costPerLead);
  }

  /** Requests refused for the limits: 503 QUERY_LIMIT_EXCEEDED plus 429 OPERATION_TIME_LIMIT (batch commands too). */
  public int refusals() {
    return refusals.get();
  }

  /** How many of those were 429 OPERATION_TIME_LIMIT. */
  public int operatingTimeBlocks() {
    return blocks.get();
  }

  /** Told the fields of every lead the moment it is created (benchmarks time leads with it). */
  public void onLead(java.util.function.Consumer<JsonObject> listener) {
    this.onLead = listener;
  }

  /**
   * Makes {@code field} a custom number field of this portal, as an administrator can: crm.lead.add then refuses a
   * lead whose value there is not a number (HTTP 400, the body in bitrix/lead-add-custom-field-invalid.json).
   */
  public void numberField(String field) {
    numberFields.add(field);
  }

  /** Every request received so far, in order. */
  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** Scripts the answers to the next crm.lead.add calls, in order; once they are used up, leads are created. */
  public void enqueue(Reply... replies) {
    script.addAll(List.of(replies));
  }

  /**
   * Answers every crm.lead.add call that the {@link #enqueue script} does not with what {@code faults} supplies;
   * null from it creates the lead normally.
   */
  public void faults(Supplier<Reply> faults) {
    this.faults = faults;
  }

  /**
   * A seeded mix of the failures a busy portal shows: each of {@link Reply#createThenDrop()}, {@link Reply#hang()},
   * {@link Reply#html(int) html(500)} and {@code error(503, "QUERY_LIMIT_EXCEEDED")} with probability
   * {@code sharePerKind}, otherwise null (create). The same seed gives the same sequence, so a failing run can be
   * replayed.
   */
  public static Supplier<Reply> randomFaults(long seed, double sharePerKind) {
    Random random = new Random(seed);
    List<Reply> kinds = List.of(Reply.createThenDrop(), Reply.hang(), Reply.html(500),
        Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
    return () -> {
      double roll = random.nextDouble();
      int kind = (int) (roll / sharePerKind);
      return kind < kinds.size() ? kinds.get(kind) : null;
    };
  }

  public Future<Void> close() {
    return server.close();
  }

  // --- OAuth mode ---

  private static final Pattern OAUTH_REST_PATH = Pattern.compile("^/rest/([^/]+?)(?:\\.json)?$");

  /** An OAuth token pair as the fake issued it. */
  public record Tokens(String accessToken, String refreshToken) {
    @Override
    public String toString() {
      return "Tokens[***]";
    }
  }

  private volatile OAuth oauth;

  /**
   * Switches to an OAuth application's portal: {@code /rest/<method>.json} (no user or code in the path) needs
   * {@code auth} = the current access token in the JSON body, and {@code GET /oauth/token/} on the same server
   * answers refresh_token grants for the given client, rotating both tokens.
   */
  public FakeBitrixPortal oauth(String clientId, String clientSecret, String accessToken, String refreshToken) {
    this.oauth = new OAuth(clientId, clientSecret, new Tokens(accessToken, refreshToken));
    return this;
  }

  /** The portal URL an OAuth application is configured with, e.g. {@code http://127.0.0.1:4711}. */
  public String portalUrl() {
    return "http://" + host + ":" + server.actualPort();
  }

  /** The OAuth server's token URL on this fake. */
  public String refreshUrl() {
    return portalUrl() + "/oauth/token/";
  }

  /** The access token stops working: calls with it are answered 401 expired_token until a refresh. */
  public void expireAccessToken() {
    oauth.expire();
  }

  /** How many refresh_token grants were answered with a new pair. */
  public int refreshes() {
    return oauth.refreshes.get();
  }

  /** From now on every refresh is refused with this error code (e.g. invalid_grant), until {@link #reauthorise}. */
  public void refuseRefresh(String error) {
    oauth.refusal = error;
  }

  /** The pair that works now. */
  public Tokens tokens() {
    return oauth.tokens;
  }

  /**
   * A person re-authorised the application: a new pair is issued (and returned), refusals stop, the old access token
   * counts as expired.
   */
  public Tokens reauthorise() {
    return oauth.reauthorise();
  }

  /** Answers 401 with Bitrix24's body for a token problem. */
  private static Reply tokenError(String code, String description) {
    return Reply.error(401, code, description);
  }

  private static final class OAuth {
    private final String clientId;
    private final String clientSecret;
    private volatile Tokens tokens;
    private volatile String refusal;
    private final java.util.Set<String> previous = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicInteger refreshes = new java.util.concurrent.atomic.AtomicInteger();

    OAuth(String clientId, String clientSecret, Tokens tokens) {
      this.clientId = clientId;
      this.clientSecret = clientSecret;
      this.tokens = tokens;
    }

    /** Null when {@code auth} is the current access token, else the 401 the real portal answers. */
    Reply check(Object auth) {
      String current = tokens.accessToken();
      if (current != null && current.equals(auth)) {
        return null;
      }
      if (auth != null && previous.contains(String.valueOf(auth))) {
        return tokenError("expired_token", "The access token provided has expired.");
      }
      return tokenError("invalid_token", "The access token provided is invalid.");
    }

    synchronized void expire() {
      if (tokens.accessToken() != null) {
        previous.add(tokens.accessToken());
      }
      tokens = new Tokens(null, tokens.refreshToken());
    }

    synchronized Tokens reauthorise() {
      expire();
      refusal = null;
      tokens = new Tokens(randomCode(), randomCode());
      return tokens;
    }

    synchronized void token(HttpServerRequest request) {
      io.vertx.core.MultiMap query = request.params();
      if (!"refresh_token".equals(query.get("grant_type"))) {
        json(request, 400, oauthError("unsupported_grant_type", "Only refresh_token grants are supported here."));
      } else if (!clientId.equals(query.get("client_id")) || !clientSecret.equals(query.get("client_secret"))) {
        json(request, 401, oauthError("invalid_client", "Invalid client credentials."));
      } else if (refusal != null) {
        json(request, 400, oauthError(refusal, "The refresh token is not valid any more."));
      } else if (!tokens.refreshToken().equals(query.get("refresh_token"))) {
        json(request, 400, oauthError("invalid_grant", "Invalid refresh token."));
      } else {
        expire();
        tokens = new Tokens(randomCode(), randomCode());
        refreshes.incrementAndGet();
        json(request, 200, new JsonObject().put("access_token", tokens.accessToken())
            .put("refresh_token", tokens.refreshToken()).put("expires_in", 3600)
            .put("expires", System.currentTimeMillis() / 1000 + 3600).put("scope", "crm")
            .put("domain", "127.0.0.1").put("server_endpoint", "https://oauth.bitrix.info/rest/")
            .put("status", "L").put("client_endpoint", "http://127.0.0.1/rest/").put("member_id", "fake"));
      }
    }

    private static JsonObject oauthError(String code, String description) {
      return new JsonObject().put("error", code).put("error_description", description);
    }
  }

  // --- end OAuth mode ---

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(buffer -> {
      // --- OAuth mode ---
      OAuth oauth = this.oauth;
      Matcher oauthPath = OAUTH_REST_PATH.matcher(request.path());
      if (oauth != null && request.path().equals("/oauth/token/")) {
        calls.add(new Call(null, request.path(), new JsonObject()));
        oauth.token(request);
        return;
      }
      if (oauth != null && oauthPath.matches()) {
        JsonObject body = parse(buffer);
        record(new Call(oauthPath.group(1), request.path(), body));
        Reply refused = oauth.check(body.getValue("auth"));
        if (refused != null) {
          answer(request, refused, body);
        } else {
          dispatch(request, oauthPath.group(1), body);
        }
        return;
      }
      // --- end OAuth mode ---
      Matcher path = REST_PATH.matcher(request.path());
      if (!path.matches()) {
        calls.add(new Call(null, request.path(), parse(buffer)));
        answer(request, Reply.html(404), new JsonObject());
        return;
      }
      String method = path.group(3);
      JsonObject body = parse(buffer);
      record(new Call(method, request.path(), body));
      if (!path.group(2).equals(code)) {
        answer(request, Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data"), body);
      } else {
        dispatch(request, method, body);
      }
    });
  }

  /**
   * Keeps a call for {@link #calls()}. The hourly CRM-mode question is counted apart ({@link FakeCrm#modeQuestions}):
   * tests count the requests that carry leads.
   */
  private void record(Call call) {
    if (!"crm.settings.mode.get".equals(call.method())) {
      calls.add(call);
    }
  }

  /** A request that passed authentication (the webhook code or the OAuth access token). */
  private void dispatch(HttpServerRequest request, String method, JsonObject body) {
    FakeLimits limits = this.limits;
    if (method.equals("crm.settings.mode.get")) {
      // One request an hour: left out of the modelled bucket so that limit tests measure what leads cost.
      crmAnswer(request, crm.call(method, body));
    } else if (limits != null && !limits.request()) {
      refusals.incrementAndGet();
      answer(request, Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"), body);
    } else if (method.equals("crm.lead.add")) {
      if (limits != null && limits.blocked(method)) {
        refusals.incrementAndGet();
        blocks.incrementAndGet();
        answer(request, Reply.error(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
            body);
        return;
      }
      if (limits != null) {
        limits.charge(method);
      }
      answer(request, nextReply(), body);
    } else if (method.equals("batch")) {
      batch(request, body);
    } else if (method.equals("crm.lead.list")) {
      list(request, body);
    } else if (method.equals("crm.deal.add") || method.equals("crm.contact.add")) {
      crmAdd(request, method, body);
    } else if (crm.handles(method)) {
      crmAnswer(request, crm.call(method, body));
    } else {
      answer(request, Reply.error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"), body);
    }
  }

  private Reply nextReply() {
    Reply scripted = script.poll();
    Reply reply = scripted != null ? scripted : faults.get();
    return reply == null ? Reply.created() : reply;
  }

  /**
   * A batch of crm.lead.add commands, answered like the real portal: always 200, each command's result or error in
   * its section, an empty section as {@code []}. A scripted reply that is about the connection (a drop, a hang, an
   * HTML page, a request-level refusal) applies to the whole batch; an error reply applies to one command.
   */
  private void batch(HttpServerRequest request, JsonObject body) {
    JsonObject cmd = body.getValue("cmd") instanceof JsonObject c ? c : new JsonObject();
    boolean halt = "1".equals(String.valueOf(body.getValue("halt")));
    Reply head = script.peek();
    boolean scripted = head != null;
    if (!scripted) {
      // The fault mix hits a batch request as a whole, as a lost answer or a refusal would.
      head = faults.get();
    }
    if (head != null && (head.kind() != Reply.Kind.CREATED && head.kind() != Reply.Kind.ERROR
        || head.kind() == Reply.Kind.ERROR && head.status() >= 500 || head.kind() == Reply.Kind.ERROR && head.status() == 401)) {
      if (scripted) {
        script.poll();
      }
      if (head.kind() == Reply.Kind.CREATE_THEN_DROP) {
        cmd.forEach(entry -> command(entry.getValue().toString(), new JsonObject(), new JsonObject(), new JsonObject(),
            new JsonObject()));
        request.connection().close();
      } else if (misbehavesAfterCreating(head)) {
        cmd.forEach(entry -> command(entry.getValue().toString(), new JsonObject(), new JsonObject(), new JsonObject(),
            new JsonObject()));
        misbehave(request, head);
      } else {
        answer(request, head, body);
      }
      return;
    }
    JsonObject results = new JsonObject();
    JsonObject errors = new JsonObject();
    JsonObject times = new JsonObject();
    JsonObject byName = new JsonObject();
    boolean[] halted = {false};
    cmd.forEach(entry -> {
      if (halted[0]) {
        return; // halt: 1 stops at the first failed command
      }
      JsonObject outcome = command(entry.getValue().toString(), results, errors, times, byName);
      if (outcome != null) {
        errors.put(entry.getKey(), outcome);
        halted[0] = halt;
      } else {
        byName.put(entry.getKey(), results.getValue(String.valueOf(results.size() + errors.size() - 1)));
      }
    });
    // command() files results under a placeholder; move them under their command names.
    JsonObject named = new JsonObject();
    JsonObject namedTimes = new JsonObject();
    int i = 0;
    for (String name : cmd.fieldNames()) {
      String slot = String.valueOf(i++);
      if (results.containsKey(slot)) {
        named.put(name, results.getValue(slot));
      }
      if (times.containsKey(slot)) {
        namedTimes.put(name, times.getValue(slot));
      }
    }
    JsonObject result = new JsonObject()
        .put("result", named.isEmpty() ? new JsonArray() : named)
        .put("result_error", errors.isEmpty() ? new JsonArray() : errors)
        .put("result_total", new JsonArray())
        .put("result_next", new JsonArray())
        .put("result_time", namedTimes.isEmpty() ? new JsonArray() : namedTimes);
    // The batch call's own time block, with an operating_reset_at: all that a command blocked for operating time
    // (its result_time entry missing) has to go by, as in real answers.
    FakeLimits limits = this.limits;
    double[] own = batchOperating;
    json(request, 200, new JsonObject().put("result", result).put("time", own != null
        ? timeAt(own[0], (long) own[1]) : limits == null ? time(0.05, 0)
        : timeAt(0.05, limits.resetAtEpochSecond("crm.lead.add"))));
  }

  /**
   * Runs one batch command ({@code crm.lead.add?fields%5BTITLE%5D=...}); files its result or time under the next
   * numeric slot and returns its error object, or null on success.
   */
  private JsonObject command(String command, JsonObject results, JsonObject errors, JsonObject times,
                             JsonObject earlier) {
    String slot = String.valueOf(results.size() + errors.size());
    int question = command.indexOf('?');
    String method = question >= 0 ? command.substring(0, question) : command;
    JsonObject params = substitute(PhpQuery.decode(question >= 0 ? command.substring(question + 1) : ""), earlier);
    if (method.equals("crm.lead.list")) {
      results.put(slot, listAnswer(params).getValue("result"));
      return null;
    }
    if (crm.handles(method)) {
      FakeCrm.Answer answer = crm.call(method, params);
      if (answer.error() != null) {
        return answer.error();
      }
      results.put(slot, answer.result());
      times.put(slot, time(0.01, 0));
      return null;
    }
    if (!method.equals("crm.lead.add")) {
      return new JsonObject().put("error", "ERROR_METHOD_NOT_FOUND").put("error_description", "Method not found!");
    }
    FakeLimits limits = this.limits;
    if (limits != null && limits.blocked(method)) {
      refusals.incrementAndGet();
      blocks.incrementAndGet();
      return new JsonObject().put("error", "OPERATION_TIME_LIMIT")
          .put("error_description", "Method is blocked due to operation time limit.");
    }
    if (limits != null) {
      limits.charge(method);
    }
    Reply reply = script.peek() != null && script.peek().kind() == Reply.Kind.ERROR ? script.poll() : null;
    if (reply != null) {
      return new JsonObject().put("error", reply.code()).put("error_description", reply.description());
    }
    JsonObject refused = params.getValue("fields") instanceof JsonObject fields
        ? FakeLeadValidation.refusal(fields, numberFields) : null;
    if (refused != null) {
      return refused;
    }
    Long id = store(params);
    if (id == null) {
      return new JsonObject().put("error", "").put("error_description", "Parameter 'fields' must be array.");
    }
    results.put(slot, id);
    // As a real portal: the method's usage so far in the window, and when the window's oldest charge leaves it.
    times.put(slot, limits == null ? time(0.02, 0)
        : timeAt(limits.operating(method), limits.resetAtEpochSecond(method)));
    return null;
  }

  private void answer(HttpServerRequest request, Reply reply, JsonObject body) {
    switch (reply.kind()) {
      case CREATED -> create(request, body);
      case ERROR -> {
        JsonObject error = new JsonObject().put("error", reply.code()).put("error_description", reply.description());
        FakeLimits limits = this.limits;
        if ("OPERATION_TIME_LIMIT".equalsIgnoreCase(reply.code())) {
          error.put("time", limits == null ? time(480.5, 600)
              : timeAt(limits.operating("crm.lead.add"), limits.resetAtEpochSecond("crm.lead.add")));
        }
        json(request, reply.status(), error);
      }
      case HTML -> {
        String title = reply.status() + " " + HttpResponseStatus.valueOf(reply.status()).reasonPhrase();
        request.response().setStatusCode(reply.status()).putHeader("Content-Type", "text/html; charset=UTF-8")
            .end("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title
                + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
      }
      case EMPTY -> request.response().setStatusCode(reply.status()).end();
      case DROP -> request.connection().close();
      case CREATE_THEN_DROP -> {
        if (store(body) != null) {
          request.connection().close();
        }
      }
      case HANG -> { }
      case CREATE_THEN_STALL, CREATE_THEN_TRICKLE, CREATE_THEN_HUGE -> {
        if (store(body) != null) {
          misbehave(request, reply);
        }
      }
      case REDIRECT -> request.response().setStatusCode(reply.status()).putHeader("Location", reply.location()).end();
    }
  }

  private static boolean misbehavesAfterCreating(Reply reply) {
    return reply.kind() == Reply.Kind.CREATE_THEN_STALL || reply.kind() == Reply.Kind.CREATE_THEN_TRICKLE
        || reply.kind() == Reply.Kind.CREATE_THEN_HUGE;
  }

  /** The answer of a portal (or a proxy in front of it) that sent its headers and then went wrong. */
  private void misbehave(HttpServerRequest request, Reply reply) {
    var response = request.response().setChunked(true).setStatusCode(200)
        .putHeader("Content-Type", "application/json; charset=utf-8");
    response.writeHead();
    switch (reply.kind()) {
      case CREATE_THEN_TRICKLE -> {
        // A valid start of an answer, a byte at a time, so that no idle timeout ever fires.
        String start = "{\"result\":" + " ".repeat(10_000);
        long timer = vertx.setPeriodic(100, new io.vertx.core.Handler<>() {
          int sent;

          @Override
          public void handle(Long id) {
            if (response.closed() || response.ended()) {
              vertx.cancelTimer(id);
              return;
            }
            response.write(String.valueOf(start.charAt(Math.min(sent++, start.length() - 1))));
          }
        });
        request.connection().closeHandler(v -> vertx.cancelTimer(timer));
      }
      case CREATE_THEN_HUGE -> {
        response.write("{\"result\":\"");
        Buffer chunk = Buffer.buffer("x".repeat(64 * 1024));
        writeHuge(response, chunk);
      }
      default -> { }
    }
  }

  /** Writes chunks while the connection takes them, made as they go: memory stays at one chunk plus the socket's. */
  private void writeHuge(io.vertx.core.http.HttpServerResponse response, Buffer chunk) {
    while (!response.closed() && !response.writeQueueFull() && hugeBytes.get() < (4L << 30)) {
      response.write(chunk);
      hugeBytes.addAndGet(chunk.length());
    }
    if (!response.closed() && hugeBytes.get() < (4L << 30)) {
      response.drainHandler(v -> writeHuge(response, chunk));
    }
  }

  private void create(HttpServerRequest request, JsonObject body) {
    JsonObject refused = body.getValue("fields") instanceof JsonObject fields
        ? FakeLeadValidation.refusal(fields, numberFields) : null;
    if (refused != null) {
      json(request, 400, refused);
      return;
    }
    Long id = store(body);
    if (id == null) {
      answer(request, Reply.error(400, "", "Parameter 'fields' must be array."), body);
    } else {
      FakeLimits limits = this.limits;
      json(request, 200, new JsonObject().put("result", id).put("time", limits == null ? time(0.02, 0)
          : timeAt(limits.operating("crm.lead.add"), limits.resetAtEpochSecond("crm.lead.add"))));
    }
  }

  /** Creates the lead if {@code fields} is an object, as the portal validates it; null when it is not. */
  private synchronized Long store(JsonObject body) {
    if (!(body.getValue("fields") instanceof JsonObject fields)) {
      return null;
    }
    long id = nextId++;
    leads.add(new Lead(id, crm.converted(id, fields.copy())));
    crm.created(id, fields);
    onLead.accept(fields);
    return id;
  }

  /** What Bitrix24 rewrites in every value of a batch command: a reference to an earlier command's result. */
  private static final Pattern REFERENCE = Pattern.compile(
      "\\$(result|next|total|time|error)\\[([^\\]]*)\\]((?:\\[[^\\]]*\\])*)", Pattern.CASE_INSENSITIVE);

  /**
   * Bitrix24's substitution in batch values, after parse_str: {@code $result[name]} (and {@code $next}, {@code $total},
   * {@code $time}, {@code $error}, any case) becomes that earlier command's value, or nothing when there is none.
   * Only the {@code result} section is modelled; every reference is rewritten, which is what matters to the relay.
   */
  private static JsonObject substitute(JsonObject params, JsonObject earlier) {
    JsonObject out = new JsonObject();
    params.forEach(entry -> out.put(entry.getKey(), substituteValue(entry.getValue(), earlier)));
    return out;
  }

  private static Object substituteValue(Object value, JsonObject earlier) {
    if (value instanceof JsonObject object) {
      return substitute(object, earlier);
    }
    if (value instanceof JsonArray array) {
      JsonArray out = new JsonArray();
      array.forEach(item -> out.add(substituteValue(item, earlier)));
      return out;
    }
    if (!(value instanceof String text)) {
      return value;
    }
    Matcher reference = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (reference.find()) {
      Object found = reference.group(1).equalsIgnoreCase("result") ? earlier.getValue(reference.group(2)) : null;
      reference.appendReplacement(out, Matcher.quoteReplacement(found == null ? "" : String.valueOf(found)));
    }
    reference.appendTail(out);
    return out.toString();
  }

  /**
   * A deal or contact added as JSON follows the script like crm.lead.add (a scripted error, an answer lost after
   * creating), so that exactly-once can be tested for deals too.
   */
  private void crmAdd(HttpServerRequest request, String method, JsonObject body) {
    Reply reply = nextReply();
    if (reply.kind() != Reply.Kind.CREATED && reply.kind() != Reply.Kind.CREATE_THEN_DROP) {
      answer(request, reply, body);
      return;
    }
    FakeCrm.Answer added = crm.call(method, body);
    if (reply.kind() == Reply.Kind.CREATE_THEN_DROP && added.error() == null) {
      request.connection().close();
    } else {
      crmAnswer(request, added);
    }
  }

  private static void crmAnswer(HttpServerRequest request, FakeCrm.Answer answer) {
    json(request, answer.status(), answer.error() != null ? answer.error()
        : new JsonObject().put("result", answer.result()).put("time", time(0.01, 0)));
  }

  private void list(HttpServerRequest request, JsonObject body) {
    json(request, 200, listAnswer(body).put("time", time(0.01, 0)));
  }

  /** crm.lead.list's answer ({@code result}, {@code total}, {@code next}), on its own or in a batch. */
  private JsonObject listAnswer(JsonObject body) {
    JsonObject filter = body.getValue("filter") instanceof JsonObject f ? f : new JsonObject();
    List<JsonObject> found = new ArrayList<>();
    for (Lead lead : leads) {
      if (matches(lead, filter)) {
        found.add(crm.dated(lead.id(), lead.fields().copy().put("ID", String.valueOf(lead.id()))));
      }
    }
    int start = body.getValue("start") instanceof String text && text.matches("\\d{1,9}") ? Integer.parseInt(text)
        : Math.max(0, body.getInteger("start", 0));
    if (body.getValue("order") instanceof JsonObject order && "DESC".equalsIgnoreCase(order.getString("ID"))) {
      java.util.Collections.reverse(found);
    }
    JsonObject answer = new JsonObject()
        .put("result", new JsonArray(found.subList(Math.min(start, found.size()),
            Math.min(start + PAGE, found.size()))))
        .put("total", found.size());
    if (start + PAGE < found.size()) {
      answer.put("next", start + PAGE);
    }
    return answer;
  }

  private static boolean matches(Lead lead, JsonObject filter) {
    for (Map.Entry<String, Object> condition : filter) {
      String key = condition.getKey();
      if (key.startsWith("@")) {
        Object value = key.equals("@ID") ? lead.id() : lead.fields().getValue(key.substring(1));
        JsonArray allowed = condition.getValue() instanceof JsonArray array ? array : new JsonArray();
        if (value == null || allowed.stream().map(String::valueOf).noneMatch(String.valueOf(value)::equals)) {
          return false;
        }
      } else {
        Object value = key.equals("ID") ? lead.id() : lead.fields().getValue(key);
        if (value == null || !String.valueOf(value).equals(String.valueOf(condition.getValue()))) {
          return false;
        }
      }
    }
    return true;
  }

  private static void json(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
        .end(body.encode());
  }

  private static JsonObject time(double operating, long resetInSeconds) {
    return timeAt(operating, OffsetDateTime.now().toEpochSecond() + resetInSeconds);
  }

  private static JsonObject timeAt(double operating, long resetAtEpochSecond) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.ofHours(3));
    String date = now.format(DATE);
    double start = System.currentTimeMillis() / 1000.0;
    return new JsonObject().put("start", start).put("finish", start + 0.02).put("duration", 0.02)
        .put("processing", 0.01).put("date_start", date).put("date_finish", date)
        .put("operating", operating).put("operating_reset_at", resetAtEpochSecond);
  }

  private static JsonObject parse(Buffer buffer) {
    try {
      // Read exactly, as PHP reads the text: a lead's 9000.00 stays 9000.00, not the double 9000.0.
      return buffer.length() == 0 ? new JsonObject() : ExactJson.decode(buffer.toString(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }

  private static String randomCode() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder code = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      code.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return code.toString();
  }
}
