package io.leadrelay.bitrix;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.leadrelay.cluster.Ownership;
import io.leadrelay.cluster.PortalOwnership;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.Fence;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.store.StoreUnavailable;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new owner takes up what earlier terms of its portal held (the previous owner's leads in flight) a moment after
 * the takeover. When the store cannot be reached at that moment (the database restarting just as the portal changed
 * hands), it tries again while it still owns the portal: otherwise those leads would wait out their delivery leases.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
class TakeoverRedriveTest {

  private static final long EPOCH = 7;

  private final Logger log = (Logger) LoggerFactory.getLogger("io.leadrelay.bitrix");
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  /** When the verticle asked the store to release earlier terms' deliveries (nanoTime), and under which epoch. */
  private final List<long[]> releases = new CopyOnWriteArrayList<>();
  private final Semaphore asked = new Semaphore(0);
  /** Requests that fail as if the database were away, before the store answers again. */
  private final AtomicInteger failuresLeft = new AtomicInteger();
  /** How those requests fail. */
  private volatile RuntimeException failure = new StoreUnavailable("connection refused");
  /** The epoch this node holds the portal under; -1 once it lost it. */
  private final AtomicLong epoch = new AtomicLong(EPOCH);
  private FakeBitrixPortal portal;
  private DeliveryStore store;

  @BeforeEach
  void open(Vertx vertx, @TempDir Path dir) throws Exception {
    logged.start();
    log.addAppender(logged);
    portal = FakeBitrixPortal.start(vertx).await(5, TimeUnit.SECONDS);
    SqliteDeliveryStore real = SqliteDeliveryStore.open(vertx, dir.resolve("leadrelay.db"), "OFF")
        .await(5, TimeUnit.SECONDS);
    store = (DeliveryStore) Proxy.newProxyInstance(DeliveryStore.class.getClassLoader(),
        new Class<?>[] {DeliveryStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("releaseForNewOwner")) {
            releases.add(new long[] {System.nanoTime(), ((Fence) args[2]).epoch()});
            asked.release();
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              return Future.failedFuture(failure);
            }
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @AfterEach
  void detachLog() {
    log.detachAppender(logged);
  }

  @Test
  void aStoreThatCannotBeReachedAtTheTakeoverIsAskedAgainWhileThisNodeOwnsThePortal(Vertx vertx) throws Exception {
    failuresLeft.set(2);
    deploy(vertx);

    awaitReleases(3);
    assertTrue(releases.stream().allMatch(release -> release[1] == EPOCH), "every try under the same term");
    long firstGapMillis = (releases.get(1)[0] - releases.get(0)[0]) / 1_000_000;
    long secondGapMillis = (releases.get(2)[0] - releases.get(1)[0]) / 1_000_000;
    assertTrue(firstGapMillis >= 900 && secondGapMillis >= 1_900,
        "tried again after 1 s, then 2 s: " + firstGapMillis + " ms, " + secondGapMillis + " ms");
    assertEquals(1, warnings().size(), "one warning for the outage, not one per try: " + warnings());
    assertTrue(warnings().get(0).contains("trying again while this node owns the portal"), warnings().get(0));
  }

  @Test
  void aNodeThatLostThePortalMeanwhileLeavesItToTheNewOwner(Vertx vertx) throws Exception {
    failuresLeft.set(1);
    deploy(vertx);

    awaitReleases(1);
    epoch.set(-1);
    // The retry would come 1 s after the failure; by 2 s it would have shown.
    vertx.timer(2_000).await(5, TimeUnit.SECONDS);
    assertEquals(1, releases.size(), "no second try once another node may own the portal");
  }

  @Test
  void aFailureOtherThanAnUnreachableStoreIsNotRetried(Vertx vertx) throws Exception {
    failure = new IllegalStateException("a statement the store refused");
    failuresLeft.set(1);
    deploy(vertx);

    awaitReleases(1);
    vertx.timer(2_000).await(5, TimeUnit.SECONDS);
    assertEquals(1, releases.size(), "asking again would fail the same way: left to the delivery leases");
    assertTrue(warnings().get(0).contains("retried when their leases run out"), warnings().toString());
  }

  private void deploy(Vertx vertx) throws Exception {
    PortalConfig target = PortalConfig.parse("test", portal.webhookUrl());
    String key = PortalOwnership.keyOf(target);
    Ownership owning = new Ownership() {
      @Override
      public boolean isOwner(String portal) {
        return portal.equals(key) && epoch.get() == EPOCH;
      }

      @Override
      public OptionalLong epoch(String portal) {
        return portal.equals(key) && epoch.get() >= 0 ? OptionalLong.of(epoch.get()) : OptionalLong.empty();
      }

      @Override
      public Ownership onAcquired(BiConsumer<String, Long> handler) {
        return this;
      }

      @Override
      public Ownership onLost(Consumer<String> handler) {
        return this;
      }

      @Override
      public String owner() {
        return "node-a/test";
      }

      @Override
      public Duration settleAfterTakeover() {
        return Duration.ofMillis(10);
      }
    };
    Map<String, IntegrationConfig> integrations = Map.of("main",
        new IntegrationConfig("main", "s3cret", Optional.of(target), MappingConfig.defaults()));
    vertx.deployVerticle(new BitrixVerticle(integrations, new BitrixHttpConfig(300, 800, 2), BitrixLimits.standard(),
        TestRelay.FAST, store, owning)).await(5, TimeUnit.SECONDS);
  }

  private void awaitReleases(int count) throws InterruptedException {
    assertTrue(asked.tryAcquire(count, 8, TimeUnit.SECONDS),
        "asked the store " + releases.size() + " time(s), expected " + count);
  }

  private List<String> warnings() {
    return logged.list.stream().filter(event -> event.getLevel() == ch.qos.logback.classic.Level.WARN)
        .map(ILoggingEvent::getFormattedMessage).filter(message -> message.contains("earlier terms")).toList();
  }
}
