package io.leadrelay;

import ch.qos.logback.classic.Level;
import io.leadrelay.cli.DeliveriesCli;
import io.leadrelay.cluster.ClusterNode;
import io.leadrelay.cluster.NodeCard;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.config.ConfigException;
import io.leadrelay.config.ConfigLoader;
import io.leadrelay.config.GeneratedSecrets;
import io.leadrelay.config.HttpConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.RelayConfig;
import io.leadrelay.metrics.MetricsBackend;
import io.leadrelay.store.StoreRefusal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Start-up: read the configuration, start Vert.x, deploy the relay, and say where BotHelp should send webhooks.
 * With arguments it is the command line instead ({@code deliveries list|show|retry}, {@code --help}).
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** Answers in flight get their request timeout to finish; the rest of the stop takes a few seconds. */
  private static final long STOP_TIMEOUT_SECONDS = 60;
  /** How often a clustered node with a dry-run integration looks whether another member sends it to a portal. */
  private static final long DRY_RUN_CHECK_MILLIS = 2_000;

  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0) {
      quietConsole();
      System.exit(DeliveriesCli.run(args, System.getenv(), System.out, System.err));
    }
    AtomicReference<Vertx> running = new AtomicReference<>(Vertx.vertx());
    ClusterNode clustered = null;
    NodeCard card = null;
    try {
      ConfigLoader.Loaded loaded = await(ConfigLoader.load(running.get(), System.getenv()));
      RelayConfig loadedConfig = loaded.config();
      // Vert.x measures itself only if built to: the instance that read the configuration makes way for one that is.
      MetricsBackend metrics = MetricsBackend.create(loadedConfig.metrics());
      // The node id is settled before joining: the other members see it on this node's card.
      RelayConfig config = loadedConfig.cluster().enabled()
          ? loadedConfig.withNodeId(Relay.nodeIdOf(loadedConfig)) : loadedConfig;
      if (config.cluster().enabled()) {
        boolean named = loadedConfig.store().nodeId() != null;
        card = NodeCard.of(config.store().nodeId(), named, config.integrations().values());
        clustered = joinCluster(running.get(), config.cluster(), metrics, card);
        running.set(clustered.vertx());
      } else if (metrics.enabled()) {
        await(running.get().close());
        running.set(metrics.builder(new VertxOptions()).build());
      }
      Vertx vertx = running.get();
      Relay relay = await(Relay.start(vertx, config, metrics)
          .recover(failure -> Future.failedFuture(explainStartFailure(failure, config.http()))));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(vertx, relay), "leadrelay-shutdown"));
      announce(config, relay, loaded);
      if (clustered != null && card.hasDryRun()) {
        watchForSendersOfDryRun(clustered, card);
      }
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      String reason = cause instanceof ConfigException || cause instanceof StoreRefusal ? cause.getMessage()
          : cause.getClass().getSimpleName() + ": " + cause.getMessage();
      System.err.println("LeadRelay cannot start: " + reason);
      shutdown(running.get());
      System.exit(cause instanceof ConfigException ? 2 : 1);
    }
  }

  /**
   * The configuration was read on a local Vert.x instance; a clustered node runs on one whose event bus spans the
   * nodes, so the local one makes way for it.
   */
  private static ClusterNode joinCluster(Vertx local, ClusterConfig cluster, MetricsBackend metrics, NodeCard card)
      throws ExecutionException, InterruptedException {
    await(local.close());
    ClusterNode.checkPorts(cluster);
    String address = cluster.host().orElse("this host") + ":" + cluster.port();
    ClusterNode node = await(ClusterNode.join(cluster, metrics::builder, card).recover(failure -> Future.failedFuture(
        new ConfigException("Could not join the cluster as " + address + " (" + failure.getMessage() + "); check"
            + " CLUSTER_HOST and CLUSTER_PORT, and that ports " + cluster.port() + " and " + cluster.busPort()
            + " are free here and open between the nodes."))));
    LOG.info("Node {} joined the cluster of {} member(s) as {} (event bus on port {}); members listed: {}",
        card.node(), node.memberIds().size(), address, cluster.busPort(), String.join(",", cluster.members()));
    NodeCard.Verdict verdict = card.against(node.busAddress(), await(node.peers()));
    if (verdict.refusal().isPresent()) {
      // Out of the cluster again before anything is stored or sent under this configuration.
      await(node.vertx().close());
      throw new ConfigException(verdict.refusal().get());
    }
    verdict.warnings().forEach(LOG::warn);
    return node;
  }

  /**
   * A node with a dry-run integration that started before the nodes sending it to a portal passed its own join:
   * it reads the members' cards every {@link #DRY_RUN_CHECK_MILLIS} ms, and once one of them sends such an
   * integration to a portal it stops (exit code 2, through the ordinary graceful stop) instead of marking the
   * webhooks it accepts delivered without sending them. What it accepted before then was marked so.
   */
  private static void watchForSendersOfDryRun(ClusterNode node, NodeCard card) {
    node.vertx().setPeriodic(DRY_RUN_CHECK_MILLIS, timer -> node.peers().onSuccess(peers ->
        card.dryRunBeside(peers).ifPresent(refusal -> {
          node.vertx().cancelTimer(timer);
          LOG.error("{} This node stops now.", refusal);
          System.err.println("LeadRelay stops: " + refusal);
          // Off the event loop: exit runs the shutdown hook, which waits for the relay to stop on this loop.
          new Thread(() -> System.exit(2), "leadrelay-dry-run-stop").start();
        })));
  }

  private static void announce(RelayConfig config, Relay relay, ConfigLoader.Loaded loaded) {
    // On PostgreSQL, DATA_DIR holds nothing: naming it would send an operator looking for the deliveries there.
    String store = config.store().postgresSettings().map(pg -> "deliveries in " + pg.describe())
        .orElse("data in " + config.dataDir().toAbsolutePath().normalize());
    LOG.info("LeadRelay listening on {}:{} with {} HTTP instance(s); logs in {}, {}",
        config.http().host(), relay.httpPort(), config.http().instances(),
        config.logs().dir().toAbsolutePath().normalize(), store);
    // Shown once, at the first start that gets this far after the secret was generated: the only place the full
    // URL ever appears.
    for (IntegrationConfig integration : loaded.newSecrets()) {
      System.out.printf("%nGenerated a webhook secret for integration '%s' (kept in %s).%n"
              + "Paste this URL into BotHelp's \"send subscriber data via webhook\" action,%n"
              + "with localhost replaced by this server's public address:%n%n"
              + "    http://localhost:%d/webhook/%s/%s%n%n",
          integration.name(), GeneratedSecrets.whereKept(config.store(), config.dataDir(), integration.name()),
          relay.httpPort(), integration.name(), integration.secret());
      System.out.flush();
      GeneratedSecrets.announced(config.store(), config.dataDir(), integration.name());
    }
  }

  /**
   * A port already in use is the commonest first-start failure, and Netty's "Address already in use" names neither
   * the port nor the setting: say both in one sentence.
   */
  static Throwable explainStartFailure(Throwable failure, HttpConfig http) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (String.valueOf(cause.getMessage()).contains("Address already in use")) {
        return new ConfigException("Port " + http.port() + " on " + http.host() + " is already in use; stop what"
            + " listens there or set HTTP_PORT (http.port) to a free port.");
      }
      if (cause instanceof java.net.BindException) {
        return new ConfigException("Cannot listen on " + http.host() + ":" + http.port() + " (" + cause.getMessage()
            + "); check HTTP_HOST (http.host) and HTTP_PORT (http.port).");
      }
    }
    return failure;
  }

  /** A command's output is its answer: the service's start-up and diagnostic lines would only clutter it. */
  private static void quietConsole() {
    if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(Level.WARN);
    }
  }

  private static <T> T await(Future<T> future) throws ExecutionException, InterruptedException {
    return future.toCompletionStage().toCompletableFuture().get();
  }

  /**
   * SIGTERM or the JVM's end: the relay stops its parts in order (HTTP first, the store last), then Vert.x closes.
   * The last line says whether nothing was left half-done.
   */
  private static void stop(Vertx vertx, Relay relay) {
    try {
      relay.stop().toCompletionStage().toCompletableFuture().get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      LOG.info("LeadRelay stopped cleanly");
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      System.err.println("LeadRelay did not stop cleanly: " + cause);
    }
  }

  private static void shutdown(Vertx vertx) {
    try {
      // Closing undeploys every verticle: the log verticle flushes its queues on the way.
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("LeadRelay did not stop cleanly: " + e);
    }
  }
}
