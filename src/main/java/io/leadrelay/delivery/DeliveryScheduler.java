package io.leadrelay.delivery;

import io.leadrelay.Addresses;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.StoreUnavailable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * Drives the deliveries the fast path does not: those whose retry time has come, those lost in flight (their lease
 * ran out: a lost bus message, a crashed node), and after a restart everything that was in flight. Also purges
 * delivered rows past their retention. This is what makes a crash or a lost message delay a lead, never lose it.
 */
public class DeliveryScheduler extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DeliveryScheduler.class);
  private static final Duration PURGE_EVERY = Duration.ofHours(1);
  /** Mapped on this node: a clustered bus would look for the consumer in the cluster's registry. */
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Deliveries deliveries;
  private final DeliveryConfig config;
  private final Supplier<Collection<String>> drivable;
  private boolean sweeping;
  private long sweepTimer = -1;
  private long purgeTimer = -1;

  public DeliveryScheduler(DeliveryStore store, DeliveryConfig config) {
    this(store, config, () -> null);
  }

  /**
   * @param drivable the integrations whose deliveries this node may claim now (null: all): on a shared store,
   *                 those of the portals it owns and dry-run ones, so a node never claims what it may not send
   */
  public DeliveryScheduler(DeliveryStore store, DeliveryConfig config, Supplier<Collection<String>> drivable) {
    this.deliveries = new Deliveries(store);
    this.config = config;
    this.drivable = drivable;
  }

  @Override
  public Future<?> start() {
    // Single node: nothing else can be working on a delivery now, so every lease from before this start is void.
    return deliveries.recoverInFlight(Instant.now()).onSuccess(released -> {
      if (released > 0) {
        LOG.info("{} deliveries were in flight when the relay last stopped: they are retried now, each looked up"
            + " in Bitrix24 first so none is created twice", released);
      }
      sweepTimer = vertx.setPeriodic(0, config.sweepInterval().toMillis(), id -> sweep());
      purgeTimer = vertx.setPeriodic(0, PURGE_EVERY.toMillis(), id -> purge());
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(purgeTimer);
    return Future.succeededFuture();
  }

  private void sweep() {
    if (sweeping) {
      return;
    }
    Collection<String> integrations = drivable.get();
    if (integrations != null && integrations.isEmpty()) {
      return; // a standby node: every portal has another owner
    }
    sweeping = true;
    deliveries.claimDue(Instant.now(), config.lease(), config.sweepBatch(), integrations)
        .onSuccess(due -> {
          for (Delivery delivery : due) {
            vertx.eventBus().send(Addresses.DELIVERY_MAP, delivery.toJson(), LOCAL);
          }
        })
        .onFailure(e -> {
          // Every sweep would say it while the database is away; the store says that once.
          if (!StoreUnavailable.is(e)) {
            LOG.warn("Could not look for due deliveries: {}", e.toString());
          }
        })
        .onComplete(ar -> sweeping = false);
  }

  private void purge() {
    deliveries.purgeDelivered(Instant.now().minus(Duration.ofDays(config.retentionDays())))
        .onSuccess(purged -> {
          if (purged > 0) {
            LOG.info("Purged {} deliveries delivered more than {} days ago", purged, config.retentionDays());
          }
        })
        .onFailure(e -> {
          if (!StoreUnavailable.is(e)) {
            LOG.warn("Could not purge old deliveries: {}", e.toString());
          }
        });
  }
}
