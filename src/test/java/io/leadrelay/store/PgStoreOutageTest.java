package io.leadrelay.store;

import io.leadrelay.cluster.FreezableProxy;
import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared store with its database gone silent (a cut network: the connections that were open stay silent after
 * the heal): an accept that had not begun to be written when its sender gave up is withdrawn and never stored, the
 * health check does not hang, and once the network heals the store works again by itself, its dead connections
 * replaced.
 */
class PgStoreOutageTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  private Vertx vertx;
  private FreezableProxy link;
  private PgDeliveryStore store;

  @BeforeEach
  void open() throws Exception {
    vertx = Vertx.vertx();
    PgSettings direct = database.settings();
    link = new FreezableProxy(vertx, direct.host(), direct.port());
    int port = link.start().await(10, TimeUnit.SECONDS);
    // Two connections: one group of accepts in flight at a time, so the next one waits in the queue.
    PgSettings throughLink = new PgSettings("127.0.0.1", port, direct.database(), direct.user(), direct.password(),
        direct.sslMode(), 2);
    store = PgDeliveryStore.open(vertx, throughLink, "node-a").await(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void anAcceptNotYetWrittenWhenItsSenderGivesUpIsNeverStoredAndTheStoreComesBackByItself() throws Exception {
    assertEquals(0, store.backlog().await(10, TimeUnit.SECONDS).size());
    link.freeze();
    long cutAt = System.nanoTime();

    Future<Accepted> inFlight = store.accept(newDelivery("in-flight"), Duration.ofMinutes(10), null,
        Instant.now().plusSeconds(1));
    Future<Accepted> queued = store.accept(newDelivery("queued"), Duration.ofMinutes(10), null,
        Instant.now().plusSeconds(1));
    Throwable withdrawn = queued.transform(done -> Future.succeededFuture(done.cause()))
        .await(5, TimeUnit.SECONDS);
    assertInstanceOf(StoreUnavailable.class, withdrawn, String.valueOf(withdrawn));
    assertTrue((System.nanoTime() - cutAt) / 1_000_000 < 2_000, "withdrawn at its time, not when TCP gives up");

    long healthStarted = System.nanoTime();
    JsonObject health = store.health().await(5, TimeUnit.SECONDS);
    assertEquals("DOWN", health.getString("status"), health.encode());
    assertTrue((System.nanoTime() - healthStarted) / 1_000_000 < 2_000, "health does not hang: " + health);

    link.thaw();
    // The connection under the first accept stays silent for ever: dropped as dead, and the store works again.
    Throwable stuck = inFlight.transform(done -> Future.succeededFuture(done.cause())).await(20, TimeUnit.SECONDS);
    assertInstanceOf(StoreUnavailable.class, stuck, String.valueOf(stuck));
    Accepted again = store.accept(newDelivery("after"), Duration.ofMinutes(10), null, null)
        .await(20, TimeUnit.SECONDS);
    assertEquals("after", again.id());
    assertEquals("UP", store.health().await(5, TimeUnit.SECONDS).getString("status"));
    assertTrue(store.find("queued").await(5, TimeUnit.SECONDS).isEmpty(), "the withdrawn accept was never stored");
    System.out.println("PgStoreOutageTest: working again " + (System.nanoTime() - cutAt) / 1_000_000
        + " ms after the cut");
  }

  private static NewDelivery newDelivery(String id) {
    return new NewDelivery(new Delivery(id, "main", Instant.now(), "203.0.113.7",
        new JsonObject().put("name", id)), "hash-" + id);
  }
}
