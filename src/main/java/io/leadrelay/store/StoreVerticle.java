package io.leadrelay.store;

import io.leadrelay.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * The store's life in the relay: answers the store's part of {@code /health}, and when Vert.x undeploys everything
 * (shutdown, tests) closes the store and then gives up DATA_DIR, removing the running marker only after a clean
 * close. Deployed first, so it is undeployed last of all.
 */
public final class StoreVerticle extends VerticleBase {

  private final SqliteDeliveryStore store;
  private final DataDirectory directory;

  public StoreVerticle(SqliteDeliveryStore store, DataDirectory directory) {
    this.store = store;
    this.directory = directory;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Object>consumer(Addresses.HEALTH_STORE,
        message -> store.health().onSuccess(message::reply)).completion();
  }

  @Override
  public Future<?> stop() {
    return store.close().transform(closed -> vertx.executeBlocking(() -> {
      directory.release(closed.succeeded());
      return null;
    }, false));
  }
}
