package io.leadrelay.cli;

import io.leadrelay.http.DeliveryIds;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.PgDeliveryStore;
import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line on the shared PostgreSQL store, configured as a node is: STORE=postgres and DATABASE_URL. */
@ExtendWith(VertxExtension.class)
class DeliveriesCliPostgresTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  @TempDir
  Path dir;

  @Test
  void listAndRetryWorkOnTheSharedStore(Vertx vertx) throws Exception {
    DeliveryStore store = PgDeliveryStore.open(vertx, database.settings(), "node-a").await(10, TimeUnit.SECONDS);
    Instant now = Instant.now();
    Delivery d = new Delivery(new DeliveryIds(Clock.systemUTC()).next(), "default", now, null, new JsonObject().put("name", "Иван"));
    store.accept(new NewDelivery(d, "h"), Duration.ofMinutes(1), null).await(5, TimeUnit.SECONDS);
    store.markDead(d.id(), "refused", new Attempt(now, "rejected", "REJECTED", 400, null, null, null))
        .await(5, TimeUnit.SECONDS);
    // The relay's configuration file, as for a node (environment variables would be STORE and DATABASE_URL).
    Path config = dir.resolve("config.json");
    Files.writeString(config, new JsonObject()
        .put("store", new JsonObject().put("type", "postgres").put("url", database.url()))
        .put("integrations", new JsonObject().put("default", new JsonObject()
            .put("secret", "cli-test-secret-0123456789")))
        .encodePrettily());
    Map<String, String> env = Map.of("CONFIG_PATH", config.toString());

    String[] list = run(env, "deliveries", "list", "--state", "DEAD");
    String[] retried = run(env, "deliveries", "retry", d.id());

    assertEquals("0", list[0], list[2]);
    assertTrue(list[1].contains(d.id() + "  DEAD"), list[1]);
    assertEquals("0", retried[0], retried[2]);
    assertEquals(DeliveryState.PENDING, store.find(d.id()).await(5, TimeUnit.SECONDS).orElseThrow().state());
    assertFalse((list[1] + list[2] + retried[1] + retried[2]).contains(database.url()), "no URL with a password");
    Future<Void> closed = store.close();
    closed.await(5, TimeUnit.SECONDS);
  }

  private static String[] run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = DeliveriesCli.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new String[] {String.valueOf(exit), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }
}
