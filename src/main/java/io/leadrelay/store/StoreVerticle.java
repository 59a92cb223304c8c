package io.leadrelay.store;

import io.leadrelay.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The store's life in the relay: answers the store's part of {@code /health}, and when Vert.x undeploys everything
 * (shutdown, tests) closes the store and then gives back what it held (the SQLite store's DATA_DIR, removing the
 * running marker only after a clean close). Deployed first, so it is undeployed last of all.
 */
public final class StoreVerticle extends VerticleBase {

  private final DeliveryStore store;
  private final Supplier<Future<JsonObject>> health;
  private final Consumer<Boolean> afterClose;

  public StoreVerticle(SqliteDeliveryStore store, DataDirectory directory) {
    this(store, store::health, directory::release);
  }

  /** The shared store holds nothing on this machine: closing its pool is all. */
  public StoreVerticle(PgDeliveryStore store) {
    this(store, store::health, cleanly -> { });
  }

  private StoreVerticle(DeliveryStore store, Supplier<Future<JsonObject>> health, Consumer<Boolean> afterClose) {
    this.store = store;
    this.health = health;
    this.afterClose = afterClose;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Object>localConsumer(Addresses.HEALTH_STORE,
        message -> health.get().onSuccess(message::reply)).completion();
  }

  @Override
  public Future<?> stop() {
    return store.close().transform(closed -> vertx.executeBlocking(() -> {
      afterClose.accept(closed.succeeded());
      return null;
    }, false));
  }
}
