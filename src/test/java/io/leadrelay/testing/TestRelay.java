package io.leadrelay.testing;

import io.leadrelay.Relay;
import io.leadrelay.config.AdminConfig;
import io.leadrelay.config.AlertConfig;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.config.HttpConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.LogConfig;
import io.leadrelay.config.MetricsConfig;
import io.leadrelay.metrics.MetricsBackend;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.config.RelayConfig;
import io.leadrelay.config.RepeatConfig;
import io.leadrelay.config.StoreConfig;
import io.leadrelay.store.PgSettings;
import io.leadrelay.mapping.MappingConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A whole relay for end-to-end tests: the real verticles on port 0 with logs and data in a temporary directory,
 * plus a client to post webhooks and a way to wait for log lines without sleeping.
 */
public final class TestRelay {

  public static final String SECRET = "test-secret-0123456789";
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";

  /**
   * A portal budget for tests that are not about the budget: after a scripted refusal the limiter takes the bucket
   * as full, and at the real 2 requests per second the tests would mostly wait.
   */
  public static final BitrixLimits LIMITS = new BitrixLimits(50, 50, 480, 50);

  /** Delivery timings for tests: fast retries, sweeps and probes, so recovery is seen in well under a second. */
  public static final DeliveryConfig FAST = new DeliveryConfig("NORMAL", Duration.ofMillis(50),
      Duration.ofSeconds(2), Duration.ofHours(72), Duration.ofMinutes(10), Duration.ofSeconds(5),
      Duration.ofMillis(100), 200, 30);

  private final Vertx vertx;
  private final Path dir;
  private final WebClient client;
  private Relay relay;
  private FakeBitrixPortal portal;

  private TestRelay(Vertx vertx, Path dir) {
    this.vertx = vertx;
    this.dir = dir;
    this.client = WebClient.create(vertx);
  }

  /** A fake portal on a free port and a relay whose "default" integration delivers to it ({@link #portal()}). */
  public static Future<TestRelay> startWithPortal(Vertx vertx, Path dir) {
    return FakeBitrixPortal.start(vertx).compose(portal -> start(vertx, dir, portal.webhookUrl()).map(relay -> {
      relay.portal = portal;
      return relay;
    }));
  }

  /** A fake portal and a relay whose "default" integration delivers to it under a {@code repeat} policy. */
  public static Future<TestRelay> startWithPortal(Vertx vertx, Path dir, RepeatConfig repeat) {
    return FakeBitrixPortal.start(vertx).compose(portal -> start(vertx, dir,
        Optional.of(PortalConfig.parse("test", portal.webhookUrl())), MappingConfig.defaults(), http(), FAST, LIMITS,
        BITRIX, StoreConfig.sqlite(), ClusterConfig.single(), repeat).map(relay -> {
          relay.portal = portal;
          return relay;
        }));
  }

  /** A fake portal and a relay whose "default" integration creates {@code target}s (deals with contacts). */
  public static Future<TestRelay> startWithPortal(Vertx vertx, Path dir, io.leadrelay.config.CrmTarget target) {
    return FakeBitrixPortal.start(vertx).compose(portal -> start(vertx, dir,
        Optional.of(PortalConfig.parse("test", portal.webhookUrl())), MappingConfig.defaults(), http(), FAST, LIMITS,
        BITRIX, StoreConfig.sqlite(), ClusterConfig.single(), RepeatConfig.NEW, target).map(relay -> {
          relay.portal = portal;
          return relay;
        }));
  }

  /** The fake portal {@link #startWithPortal} started, or null. */
  public FakeBitrixPortal portal() {
    return portal;
  }

  /** A relay whose "default" integration delivers to the given portal URL (null: dry-run). */
  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl) {
    return start(vertx, dir, portalUrl, MappingConfig.defaults());
  }

  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, MappingConfig mapping) {
    return start(vertx, dir, portalUrl, mapping, http(), FAST);
  }

  /** A relay with its own HTTP settings, e.g. a bigger body limit or a shorter request timeout. */
  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, HttpConfig http) {
    return start(vertx, dir, portalUrl, MappingConfig.defaults(), http, FAST);
  }

  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, MappingConfig mapping,
                                        HttpConfig http, DeliveryConfig delivery) {
    return start(vertx, dir, portalUrl, mapping, http, delivery, LIMITS);
  }

  /** A relay with its own model of the portal's limits (tests of the limiter, batching and pacing). */
  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, BitrixLimits limits) {
    return start(vertx, dir, portalUrl, MappingConfig.defaults(), http(), FAST, limits);
  }

  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, MappingConfig mapping,
                                        HttpConfig http, DeliveryConfig delivery, BitrixLimits limits) {
    Optional<PortalConfig> portal = portalUrl == null ? Optional.empty()
        : Optional.of(PortalConfig.parse("test", portalUrl));
    return start(vertx, dir, portal, mapping, http, delivery, limits);
  }

  /** How test relays call portals unless told otherwise: 1 s per call in all, default answer cap, no redirect hosts. */
  public static final BitrixHttpConfig BITRIX = new BitrixHttpConfig(500, 1_000, 2);

  /** A relay with its own portal-call settings (deadline, answer cap, redirect hosts) and model of the limits. */
  public static Future<TestRelay> start(Vertx vertx, Path dir, String portalUrl, BitrixHttpConfig bitrix,
                                        BitrixLimits limits) {
    return start(vertx, dir, Optional.of(PortalConfig.parse("test", portalUrl)), MappingConfig.defaults(), http(),
        FAST, limits, bitrix);
  }

  /** A relay whose "default" integration delivers to a portal of any kind, e.g. one called by an OAuth app. */
  public static Future<TestRelay> startWith(Vertx vertx, Path dir, PortalConfig portal) {
    return start(vertx, dir, Optional.of(portal), MappingConfig.defaults(), http(), FAST, LIMITS);
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, BITRIX);
  }

  /** A relay on a shared PostgreSQL store as node {@code nodeId}, delivering to a new fake portal. */
  public static Future<TestRelay> startWithPortalOnPostgres(Vertx vertx, Path dir, PgSettings postgres,
                                                            String nodeId) {
    return FakeBitrixPortal.start(vertx).compose(portal -> start(vertx, dir,
        Optional.of(PortalConfig.parse("test", portal.webhookUrl())), MappingConfig.defaults(), http(), FAST, LIMITS,
        BITRIX, new StoreConfig(StoreConfig.Kind.POSTGRES, postgres, nodeId)).map(relay -> {
          relay.portal = portal;
          return relay;
        }));
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, StoreConfig.sqlite());
  }

  /**
   * A relay as node {@code nodeId} on a shared PostgreSQL store, delivering to an existing fake portal (several such
   * relays are one relay's nodes); {@code ownerLease} is how long its portal leases last unrenewed.
   */
  public static Future<TestRelay> startOnPostgres(Vertx vertx, Path dir, PgSettings postgres, String nodeId,
                                                  FakeBitrixPortal portal, Duration ownerLease) {
    return startOnPostgres(vertx, dir, postgres, nodeId, portal, ownerLease, FAST);
  }

  /** As above, with these delivery settings. */
  public static Future<TestRelay> startOnPostgres(Vertx vertx, Path dir, PgSettings postgres, String nodeId,
                                                  FakeBitrixPortal portal, Duration ownerLease,
                                                  DeliveryConfig delivery) {
    return startOnPostgres(vertx, dir, postgres, nodeId, portal, ownerLease, delivery, http());
  }

  /** As above, with these HTTP settings (e.g. a short request deadline). */
  public static Future<TestRelay> startOnPostgres(Vertx vertx, Path dir, PgSettings postgres, String nodeId,
                                                  FakeBitrixPortal portal, Duration ownerLease,
                                                  DeliveryConfig delivery, HttpConfig http) {
    return start(vertx, dir, Optional.of(PortalConfig.parse("test", portal.webhookUrl())), MappingConfig.defaults(),
        http, delivery, LIMITS, BITRIX, new StoreConfig(StoreConfig.Kind.POSTGRES, postgres, nodeId),
        new ClusterConfig(List.of(), Optional.empty(), ClusterConfig.DEFAULT_PORT, ownerLease)).map(relay -> {
          relay.portal = portal;
          return relay;
        });
  }

  /**
   * As {@link #startOnPostgres(Vertx, Path, PgSettings, String, FakeBitrixPortal, Duration)}, with a second
   * integration, {@code name} (secret {@link #SECRET} too), on the same portal: a node configured unlike the others.
   */
  public static Future<TestRelay> startOnPostgresWith(Vertx vertx, Path dir, PgSettings postgres, String nodeId,
                                                      FakeBitrixPortal portal, Duration ownerLease, String name) {
    Optional<PortalConfig> config = Optional.of(PortalConfig.parse("test", portal.webhookUrl()));
    return start(vertx, dir, config, MappingConfig.defaults(), http(), FAST, LIMITS, BITRIX,
        new StoreConfig(StoreConfig.Kind.POSTGRES, postgres, nodeId),
        new ClusterConfig(List.of(), Optional.empty(), ClusterConfig.DEFAULT_PORT, ownerLease), AlertConfig.none(),
        MetricsConfig.disabled(), null, RepeatConfig.NEW, io.leadrelay.config.CrmTarget.LEAD,
        Map.of(name, new IntegrationConfig(name, SECRET, config, MappingConfig.defaults(), RepeatConfig.NEW,
            io.leadrelay.config.CrmTarget.LEAD))).map(relay -> {
              relay.portal = portal;
              return relay;
            });
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, store, ClusterConfig.single());
  }

  /**
   * A fake portal and a relay delivering to it, with metrics as {@code metrics} says, kept in {@code backend} (whose
   * registry {@code vertx} was built to feed, for Vert.x's own metrics; see {@link MetricsBackend#builder}).
   */
  public static Future<TestRelay> startWithMetrics(Vertx vertx, Path dir, MetricsConfig metrics,
                                                   MetricsBackend backend) {
    return FakeBitrixPortal.start(vertx).compose(portal -> start(vertx, dir,
        Optional.of(PortalConfig.parse("test", portal.webhookUrl())), MappingConfig.defaults(), http(), FAST, LIMITS,
        BITRIX, StoreConfig.sqlite(), ClusterConfig.single(), AlertConfig.none(), metrics, backend, RepeatConfig.NEW,
        io.leadrelay.config.CrmTarget.LEAD).map(relay -> {
          relay.portal = portal;
          return relay;
        }));
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store, ClusterConfig cluster) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, store, cluster, RepeatConfig.NEW);
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store, ClusterConfig cluster,
                                         RepeatConfig repeat) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, store, cluster, repeat,
        io.leadrelay.config.CrmTarget.LEAD);
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store, ClusterConfig cluster,
                                         RepeatConfig repeat, io.leadrelay.config.CrmTarget target) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, store, cluster, AlertConfig.none(),
        MetricsConfig.disabled(), null, repeat, target);
  }

  /** A relay whose "default" integration delivers to the given portal URL, alerting as {@code alerts} says. */
  public static Future<TestRelay> startWithAlerts(Vertx vertx, Path dir, String portalUrl, DeliveryConfig delivery,
                                                  AlertConfig alerts) {
    return start(vertx, dir, Optional.of(PortalConfig.parse("test", portalUrl)), MappingConfig.defaults(), http(),
        delivery, LIMITS, BITRIX, StoreConfig.sqlite(), ClusterConfig.single(), alerts, MetricsConfig.disabled(), null,
        RepeatConfig.NEW, io.leadrelay.config.CrmTarget.LEAD);
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store, ClusterConfig cluster,
                                         AlertConfig alerts, MetricsConfig metrics, MetricsBackend backend,
                                         RepeatConfig repeat, io.leadrelay.config.CrmTarget target) {
    return start(vertx, dir, portal, mapping, http, delivery, limits, bitrix, store, cluster, alerts, metrics, backend,
        repeat, target, Map.of());
  }

  private static Future<TestRelay> start(Vertx vertx, Path dir, Optional<PortalConfig> portal, MappingConfig mapping,
                                         HttpConfig http, DeliveryConfig delivery, BitrixLimits limits,
                                         BitrixHttpConfig bitrix, StoreConfig store, ClusterConfig cluster,
                                         AlertConfig alerts, MetricsConfig metrics, MetricsBackend backend,
                                         RepeatConfig repeat, io.leadrelay.config.CrmTarget target,
                                         Map<String, IntegrationConfig> more) {
    Map<String, IntegrationConfig> integrations = new LinkedHashMap<>();
    integrations.put("default", new IntegrationConfig("default", SECRET, portal, mapping, repeat, target));
    integrations.putAll(more);
    RelayConfig config = new RelayConfig(
        http,
        dir.resolve("data"),
        new LogConfig(dir.resolve("logs"), "10MB", 7, "100MB"),
        bitrix,
        limits,
        delivery,
        new AdminConfig(ADMIN_TOKEN),
        integrations,
        store,
        cluster,
        alerts,
        metrics);
    TestRelay testRelay = new TestRelay(vertx, dir);
    return (backend == null ? Relay.start(vertx, config) : Relay.start(vertx, config, backend)).map(relay -> {
      testRelay.relay = relay;
      return testRelay;
    });
  }

  public Relay relay() {
    return relay;
  }

  /** The HTTP settings test relays use unless told otherwise: one instance, 64 KiB bodies, short timeouts. */
  public static HttpConfig http() {
    return new HttpConfig("127.0.0.1", 0, 1, 64 * 1024, 5, 10);
  }

  public int port() {
    return relay.httpPort();
  }

  public WebClient client() {
    return client;
  }

  public Path logDir() {
    return dir.resolve("logs");
  }

  /**
   * Any call to this relay: {@code authorization} (e.g. {@code "Bearer " + ADMIN_TOKEN}), {@code contentType} and
   * {@code body} are left out when null.
   */
  public Future<HttpResponse<Buffer>> request(io.vertx.core.http.HttpMethod method, String uri, String authorization,
                                              String contentType, Buffer body) {
    io.vertx.ext.web.client.HttpRequest<Buffer> request = client.request(method, port(), "127.0.0.1", uri);
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    return body == null ? request.send() : request.sendBuffer(body);
  }

  public Future<HttpResponse<Buffer>> postJson(String json) {
    return post("/webhook/default/" + SECRET, "application/json", Buffer.buffer(json));
  }

  public Future<HttpResponse<Buffer>> post(String path, String contentType, Buffer body) {
    var request = client.post(port(), "127.0.0.1", path);
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    return request.sendBuffer(body);
  }

  /** Lines of one of the relay's logs ("webhook", "success", "error"), each parsed as JSON. */
  public List<JsonObject> lines(String log) {
    Path file = logDir().resolve(log + ".log");
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      List<JsonObject> lines = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          lines.add(new JsonObject(line));
        }
      }
      return lines;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Completes with the log's lines once they satisfy the condition (logs are written asynchronously). */
  public Future<List<JsonObject>> awaitLines(String log, Predicate<List<JsonObject>> condition) {
    return poll(() -> {
      List<JsonObject> lines = lines(log);
      return condition.test(lines) ? lines : null;
    });
  }

  /** Everything written to any log file (rolled ones too), for secret-leak checks. */
  public String allFileContents() {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(logDir())) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        if (!file.getFileName().toString().startsWith("secret-")) {
          all.append(Files.readString(file, StandardCharsets.ISO_8859_1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new String(all.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  /**
   * Waits until the portal holds a lead for each delivery id, then checks there is exactly one per id and no other
   * lead: the relay's whole promise in one assertion.
   */
  public Future<Void> awaitExactlyOneLeadEach(FakeBitrixPortal portal, List<String> ids) {
    return poll(() -> {
      java.util.Set<String> origins = new java.util.HashSet<>();
      portal.leads().forEach(lead -> origins.add(lead.getString("ORIGIN_ID")));
      return origins.containsAll(ids) ? origins : null;
    }).map(origins -> {
      List<String> all = portal.leads().stream().map(lead -> lead.getString("ORIGIN_ID")).toList();
      if (all.size() != ids.size() || !new java.util.HashSet<>(all).equals(new java.util.HashSet<>(ids))) {
        throw new AssertionError("expected exactly one lead for each of " + ids.size() + " deliveries, got "
            + all.size() + " leads: " + all);
      }
      return null;
    });
  }

  /** Like {@link #poll}, for a check that is itself asynchronous (an HTTP call, a store query). */
  public <T> Future<T> pollAsync(java.util.function.Supplier<Future<T>> check) {
    Promise<T> promise = Promise.promise();
    long deadline = System.currentTimeMillis() + 10_000;
    pollAsync(check, promise, deadline);
    return promise.future();
  }

  private <T> void pollAsync(java.util.function.Supplier<Future<T>> check, Promise<T> promise, long deadline) {
    check.get().otherwiseEmpty().onComplete(ar -> {
      if (ar.result() != null) {
        promise.tryComplete(ar.result());
      } else if (System.currentTimeMillis() > deadline) {
        promise.tryFail(new AssertionError("condition not met within 10 s"));
      } else {
        vertx.setTimer(20, id -> pollAsync(check, promise, deadline));
      }
    });
  }

  /** Checks a condition every 20 ms until it yields a value, failing after 10 s. */
  public <T> Future<T> poll(java.util.function.Supplier<T> check) {
    Promise<T> promise = Promise.promise();
    long deadline = System.currentTimeMillis() + 10_000;
    // Not an initial delay of 0: a periodic timer cancelled in its very first run, called from a thread other than
    // its event loop, can fail in Vert.x with a NullPointerException (its task not yet assigned), and the poll
    // would never complete.
    vertx.setPeriodic(1, 20, id -> {
      T value;
      try {
        value = check.get();
      } catch (RuntimeException e) {
        value = null;
      }
      if (value != null) {
        promise.tryComplete(value);
        vertx.cancelTimer(id);
      } else if (System.currentTimeMillis() > deadline) {
        promise.tryFail(new AssertionError("condition not met within 10 s"));
        vertx.cancelTimer(id);
      }
    });
    return promise.future();
  }
}
