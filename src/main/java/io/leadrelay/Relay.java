package io.leadrelay;

import io.leadrelay.alerting.AlertVerticle;
import io.leadrelay.bitrix.BitrixVerticle;
import io.leadrelay.bitrix.PortalTokens;
import io.leadrelay.cluster.Ownership;
import io.leadrelay.cluster.PortalOwnership;
import io.leadrelay.config.AlertChannels;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.config.RelayConfig;
import io.leadrelay.delivery.DeliveryScheduler;
import io.leadrelay.http.HttpVerticle;
import io.leadrelay.logging.LogVerticle;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.mapping.MappingVerticle;
import io.leadrelay.metrics.MetricsBackend;
import io.leadrelay.metrics.MetricsVerticle;
import io.leadrelay.metrics.RelayMetrics;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.config.StoreConfig;
import io.leadrelay.store.DataDirectory;
import io.leadrelay.store.PgDeliveryStore;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.store.StoreVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens the delivery store and deploys the relay's verticles on a Vert.x instance, in the order that lets each find
 * its consumers: logs first (so nothing goes unrecorded), then delivery to Bitrix24, mapping, the scheduler that
 * re-drives what was in flight, and last the HTTP endpoint that lets work in. The same deployment runs in
 * {@link Main} and in the end-to-end tests.
 *
 * <p>The relay owns what it deployed and {@link #stop() stops} it in the reverse order, one after the other
 * ({@code vertx.close()} alone would undeploy everything at once, and the store could close while HTTP still
 * accepts).
 */
public final class Relay {

  private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

  private final AtomicInteger httpPort = new AtomicInteger(-1);
  private final AtomicInteger metricsPort = new AtomicInteger(-1);
  /** Closed with the relay when the relay made it (the caller closes one it passed in). */
  private MetricsBackend ownBackend;
  /** What this relay deployed, the latest first: the order to stop them in. */
  private final Deque<String> deployments = new ArrayDeque<>();
  private final Vertx vertx;
  private DeliveryStore store;
  /** Which portals this node sends for: all of them on a single node. */
  private Ownership ownership = Ownership.SOLE;
  /** This node's name in the shared store's leases and, with a token of the run, on its portal leases. */
  private String nodeId;

  private Relay(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Starts with metrics as configured in a registry of the relay's own (Vert.x's own metrics are only there when
   * the Vert.x instance was built with {@link #start(Vertx, RelayConfig, MetricsBackend) its backend}).
   */
  public static Future<Relay> start(Vertx vertx, RelayConfig config) {
    MetricsBackend backend = MetricsBackend.create(config.metrics());
    return start(vertx, config, backend).andThen(started -> {
      if (started.succeeded()) {
        started.result().ownBackend = backend;
      } else {
        backend.close();
      }
    });
  }

  /** Starts with its metrics in {@code backend}, whose registry the Vert.x instance was built to feed. */
  public static Future<Relay> start(Vertx vertx, RelayConfig config, MetricsBackend backend) {
    Relay relay = new Relay(vertx);
    RelayMetrics metrics = backend.enabled() ? new RelayMetrics(backend.registry()) : RelayMetrics.NONE;
    Map<String, MappingConfig> mappings = new LinkedHashMap<>();
    config.integrations().forEach((name, integration) -> mappings.put(name, integration.mapping()));

    return relay.own(openStore(vertx, config, relay))
        // OAuth portals: the configured first token pair goes to the store unless it already has a newer one.
        .compose(id -> Future.all(config.integrations().values().stream()
            .flatMap(integration -> integration.portal().stream())
            .map(portal -> PortalTokens.seed(relay.store, portal)).toList()))
        .compose(id -> relay.measureStore(config, metrics))
        .compose(id -> relay.own(vertx.deployVerticle(new LogVerticle(config.logs(), secretsOf(config), metrics),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))))
        .compose(id -> relay.deployOwnership(config))
        .compose(id -> relay.own(vertx.deployVerticle(new BitrixVerticle(config.integrations(), config.bitrix(),
            config.limits(), config.delivery(), relay.store, relay.ownership, metrics))))
        .compose(id -> relay.own(vertx.deployVerticle(new MappingVerticle(mappings, relay.store))))
        .compose(id -> relay.own(vertx.deployVerticle(new DeliveryScheduler(relay.store, config.delivery(),
            () -> relay.ownership.drivable(config.integrations())))))
        .compose(id -> relay.deployMetricsPort(config, metrics))
        .compose(id -> relay.own(vertx.deployVerticle(
            () -> new HttpVerticle(config.http(), config.delivery(), relay.store, config.integrations(),
                config.admin(), config.alerts().backlogAge(), relay.httpPort::set, metrics,
                !config.metrics().ownPort()),
            new DeploymentOptions().setInstances(config.http().instances()))))
        // Last, so stopped first: a relay taking itself apart must not alert about its own parts going quiet.
        .compose(id -> config.alerts().enabled()
            ? relay.own(vertx.deployVerticle(new AlertVerticle(config.alerts(), relay.nodeId,
                java.time.Clock.systemUTC())))
            : Future.succeededFuture(id))
        .map(relay);
  }

  /**
   * On a shared store every node contends for each portal and sends only for those it owns (one node alone simply
   * always wins); deployed before the sender and stopped after it, before the store closes. On the embedded store
   * the node owns every portal.
   */
  private Future<String> deployOwnership(RelayConfig config) {
    if (config.store().kind() != StoreConfig.Kind.POSTGRES) {
      return Future.succeededFuture("");
    }
    PortalOwnership portals = new PortalOwnership(config.store().postgres().connectOptions(), nodeId,
        PortalOwnership.keysOf(config.integrations().values()), config.cluster().ownerLease());
    ownership = portals;
    return own(vertx.deployVerticle(portals));
  }

  /** Store commits and the backlog gauges (the backlog query runs only when Prometheus scrapes). */
  private Future<String> measureStore(RelayConfig config, RelayMetrics metrics) {
    if (metrics.enabled()) {
      store.observeCommits(metrics::storeCommitted);
      Map<String, PortalConfig> portals = new LinkedHashMap<>();
      config.integrations().forEach((name, integration) -> portals.put(name, integration.portal().orElse(null)));
      metrics.backlog(portals, store::backlog);
    }
    return Future.succeededFuture("");
  }

  /**
   * METRICS_PORT: /metrics on its own listener, started before the webhook port and so stopped after it. Without
   * it, /metrics is on the webhook port behind the admin token, and not there at all without one.
   */
  private Future<String> deployMetricsPort(RelayConfig config, RelayMetrics metrics) {
    if (!metrics.enabled() || !config.metrics().ownPort()) {
      if (metrics.enabled() && !config.admin().enabled()) {
        // A first dry-run start has neither, and nothing is wrong with it: said, not warned.
        LOG.info("/metrics is not served: set METRICS_PORT to serve it on a port of its own, or ADMIN_TOKEN to serve"
            + " it on the webhook port to callers with that token (METRICS_ENABLED=false stops collecting)");
      }
      return Future.succeededFuture("");
    }
    return own(vertx.deployVerticle(new MetricsVerticle(config.http().host(), config.metrics().port().getAsInt(),
        metrics, metricsPort::set))).onSuccess(id -> LOG.info("Prometheus metrics on http://{}:{}/metrics",
        config.http().host(), metricsPort.get()));
  }

  private Future<String> own(Future<String> deployment) {
    return deployment.onSuccess(deployments::push);
  }

  /**
   * Stops in the reverse order of the start, each part once the one before it has stopped: HTTP stops accepting
   * (answers in flight finish, so every 200 is stored), the scheduler and Bitrix24 delivery stop sending (whatever
   * was in flight is re-driven, looked up first, at the next start), the logs are flushed, and last the store
   * closes. Every part is stopped even if one fails; the first failure is passed on.
   */
  public Future<Void> stop() {
    Future<Void> stopped = Future.succeededFuture();
    while (!deployments.isEmpty()) {
      String id = deployments.pop();
      stopped = stopped.transform(earlier -> vertx.undeploy(id)
          .transform(undeployed -> earlier.failed() ? Future.failedFuture(earlier.cause()) : undeployed.failed()
              ? Future.failedFuture(undeployed.cause()) : Future.succeededFuture()));
    }
    return ownBackend == null ? stopped : stopped.andThen(done -> ownBackend.close());
  }

  /**
   * Opens the configured store and deploys its verticle first, so that it is undeployed with the rest when Vert.x
   * closes: the store closes then.
   */
  private static Future<String> openStore(Vertx vertx, RelayConfig config, Relay relay) {
    if (config.store().kind() == StoreConfig.Kind.POSTGRES) {
      String nodeId = nodeIdOf(config);
      relay.nodeId = nodeId;
      return PgDeliveryStore.open(vertx, config.store().postgres(), nodeId).compose(store -> {
        relay.store = store;
        LOG.info("Delivery store: PostgreSQL {} as node {}", config.store().postgres().describe(), nodeId);
        return vertx.deployVerticle(new StoreVerticle(store));
      });
    }
    // One relay per DATA_DIR: the directory is claimed (locked) before the store is opened, for the process's life.
    return vertx.executeBlocking(() -> DataDirectory.claim(config.dataDir(), config.databaseFile()), false)
        .compose(directory -> openSqlite(vertx, config, directory)
            .compose(store -> {
              relay.store = store;
              return vertx.deployVerticle(new StoreVerticle(store, directory));
            }));
  }

  /** This node's name in a shared store's leases: NODE_ID, or one derived from host and process. */
  public static String nodeIdOf(RelayConfig config) {
    return config.store().nodeId() != null ? config.store().nodeId()
        : config.cluster().enabled() ? defaultNodeId() + "-" + UUID.randomUUID().toString().substring(0, 4)
        : defaultNodeId();
  }

  /**
   * This node's name in a shared store's leases when NODE_ID is not set: host and process, unique even for several
   * relays on one host (a clustered node adds a token of the run: containers often all run as PID 1 under a reused
   * host name). A stable NODE_ID lets a restarted node release its own old leases at once.
   */
  private static String defaultNodeId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "host";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  /**
   * Opens the store in the claimed directory and marks the run as started. If either fails, whatever was taken is
   * given back (the store closed, the directory released, its marker left as it was) before the failure is passed on.
   */
  private static Future<SqliteDeliveryStore> openSqlite(Vertx vertx, RelayConfig config, DataDirectory directory) {
    return SqliteDeliveryStore.open(vertx, config.databaseFile(), config.delivery().storeSynchronous())
        .compose(store -> vertx.executeBlocking(() -> {
          directory.markRunning();
          store.heldBy(directory);
          return store;
        }, false).recover(unmarked -> store.close().transform(closed -> Future.failedFuture(unmarked))))
        .onFailure(refused -> vertx.executeBlocking(() -> {
          directory.release(false);
          return null;
        }, false).onFailure(e -> LOG.warn("Could not release DATA_DIR after a failed start: {}", e.toString())));
  }

  /** The port the webhook endpoint listens on (the real one when configured as 0). */
  public int httpPort() {
    return httpPort.get();
  }

  /** The port of /metrics when it has its own (METRICS_PORT), else -1. */
  public int metricsPort() {
    return metricsPort.get();
  }

  public DeliveryStore store() {
    return store;
  }

  /**
   * Everything that must never reach a log file: webhook secrets, Bitrix24 webhook codes, OAuth client secrets and
   * configured tokens, the admin token.
   */
  static Set<String> secretsOf(RelayConfig config) {
    Set<String> secrets = new HashSet<>();
    for (IntegrationConfig integration : config.integrations().values()) {
      secrets.add(integration.secret());
      integration.portal().map(PortalConfig::secretCode).ifPresent(secrets::add);
      // OAuth: the client secret, and the first tokens as configured (rotated ones are never logged at all).
      integration.portal().map(PortalConfig::oauth).ifPresent(app -> {
        secrets.add(app.clientSecret());
        secrets.add(app.accessToken());
        secrets.add(app.refreshToken());
      });
    }
    secrets.add(config.admin().token());
    // Alert channels: a webhook URL carries its key, a bot token is the bot, and the SMTP password.
    List<AlertChannels> alertChannels = new java.util.ArrayList<>(config.alerts().byIntegration().values());
    alertChannels.add(config.alerts().channels());
    for (AlertChannels channels : alertChannels) {
      if (channels.webhookUrl() != null) {
        secrets.add(channels.webhookUrl().toString());
      }
      secrets.add(channels.telegramBotToken());
    }
    secrets.add(config.alerts().smtp().password());
    config.store().postgresSettings().map(io.leadrelay.store.PgSettings::password).ifPresent(secrets::add);
    secrets.removeIf(s -> s == null || s.isBlank());
    return secrets;
  }
}
