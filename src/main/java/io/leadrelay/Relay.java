package io.leadrelay;

import io.leadrelay.bitrix.BitrixVerticle;
import io.leadrelay.bitrix.PortalTokens;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.config.RelayConfig;
import io.leadrelay.delivery.DeliveryScheduler;
import io.leadrelay.http.HttpVerticle;
import io.leadrelay.logging.LogVerticle;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.mapping.MappingVerticle;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.DataDirectory;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.store.StoreVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens the delivery store and deploys the relay's verticles on a Vert.x instance, in the order that lets each find
 * its consumers: logs first (so nothing goes unrecorded), then delivery to Bitrix24, mapping, the scheduler that
 * re-drives what was in flight, and last the HTTP endpoint that lets work in. The same deployment runs in
 * {@link Main} and in the end-to-end tests.
 */
public final class Relay {

  private final AtomicInteger httpPort = new AtomicInteger(-1);
  private DeliveryStore store;
  /** Deployment ids in the order deployed; {@link #stop} undeploys them the other way round. */
  private final List<String> deployments = new CopyOnWriteArrayList<>();

  private Relay() {
  }

  public static Future<Relay> start(Vertx vertx, RelayConfig config) {
    Relay relay = new Relay();
    Map<String, MappingConfig> mappings = new LinkedHashMap<>();
    config.integrations().forEach((name, integration) -> mappings.put(name, integration.mapping()));

    // One relay per DATA_DIR: the directory is claimed (locked) before the store is opened, for the process's life.
    return vertx.executeBlocking(() -> DataDirectory.claim(config.dataDir(), config.databaseFile()), false)
        .compose(directory -> openStore(vertx, config, directory)
            .compose(store -> {
              relay.store = store;
              // Deployed first so that it is undeployed with the rest when Vert.x closes: the store closes then.
              return vertx.deployVerticle(new StoreVerticle(store, directory)).map(relay::deployed);
            }))
        // OAuth portals: the configured first token pair goes to the store unless it already has a newer one.
        .compose(id -> Future.all(config.integrations().values().stream()
            .flatMap(integration -> integration.portal().stream())
            .map(portal -> PortalTokens.seed(relay.store, portal)).toList()))
        .compose(id -> vertx.deployVerticle(new LogVerticle(config.logs(), secretsOf(config)),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).map(relay::deployed))
        .compose(id -> vertx.deployVerticle(new BitrixVerticle(config.integrations(), config.bitrix(),
            config.limits(), config.delivery(), relay.store)).map(relay::deployed))
        .compose(id -> vertx.deployVerticle(new MappingVerticle(mappings, relay.store)).map(relay::deployed))
        .compose(id -> vertx.deployVerticle(new DeliveryScheduler(relay.store, config.delivery()))
            .map(relay::deployed))
        .compose(id -> vertx.deployVerticle(
            () -> new HttpVerticle(config.http(), config.delivery(), relay.store, config.integrations(),
                config.admin(), relay.httpPort::set),
            new DeploymentOptions().setInstances(config.http().instances())).map(relay::deployed))
        .map(relay);
  }

  /**
   * Opens the store in the claimed directory and marks the run as started. If either fails, whatever was taken is
   * given back (the store closed, the directory released, its marker left as it was) before the failure is passed on.
   */
  private static Future<SqliteDeliveryStore> openStore(Vertx vertx, RelayConfig config, DataDirectory directory) {
    return SqliteDeliveryStore.open(vertx, config.databaseFile(), config.delivery().storeSynchronous())
        .compose(store -> vertx.executeBlocking(() -> {
          directory.markRunning();
          store.heldBy(directory);
          return store;
        }, false).recover(unmarked -> store.close().transform(closed -> Future.failedFuture(unmarked))))
        .onFailure(refused -> vertx.executeBlocking(() -> {
          directory.release(false);
          return null;
        }, false));
  }

  private String deployed(String id) {
    deployments.add(id);
    return id;
  }

  /**
   * Stops the relay in the order that loses nothing, the reverse of start: the HTTP endpoint first (answers in
   * flight complete; no new webhooks), then the scheduler, mapping and delivery, then the logs (flushed, after the
   * last webhook, success and error line was announced), the store last. {@code Vertx.close()} alone undeploys them
   * all at once, and webhooks answered 200 during shutdown lost their webhook.log line.
   */
  public Future<Void> stop(Vertx vertx) {
    Future<Void> stopped = Future.succeededFuture();
    List<String> reversed = new ArrayList<>(deployments);
    Collections.reverse(reversed);
    for (String id : reversed) {
      stopped = stopped.compose(previous -> vertx.undeploy(id)).onSuccess(done -> deployments.remove(id));
    }
    return stopped;
  }

  /** The port the webhook endpoint listens on (the real one when configured as 0). */
  public int httpPort() {
    return httpPort.get();
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
    secrets.removeIf(s -> s == null || s.isBlank());
    return secrets;
  }
}
