package io.leadrelay.e2e;

import io.leadrelay.store.StoreFaults;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay and its DATA_DIR: one relay per directory, and a store that can no longer keep webhooks (directory
 * deleted, disk full) refuses them with 503 and takes /health DOWN instead of answering 200 for webhooks that will
 * be lost.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class DataDirTest {

  @TempDir
  Path dir;

  @Test
  void aSecondRelayOnTheSameDataDirRefusesToStartAndNoLeadIsDoubled(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir).compose(first -> TestRelay.start(vertx, dir, first.portal().webhookUrl())
        .transform(second -> {
          ctx.verify(() -> {
            assertTrue(second.failed(), "the second relay must not start");
            assertEquals("DATA_DIR " + dir.resolve("data").toAbsolutePath() + " is in use by another LeadRelay (PID "
                + ProcessHandle.current().pid() + "): stop it first, or give this one its own DATA_DIR, since two"
                + " relays on one store would send every lead twice.", second.cause().getMessage());
          });
          List<Future<String>> accepted = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            accepted.add(first.postJson("{\"name\":\"Лид " + i + "\"}")
                .map(response -> response.bodyAsJsonObject().getString("id")));
          }
          return Future.all(accepted).compose(all -> first.awaitExactlyOneLeadEach(first.portal(), all.list()));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDeletedDataDirRefusesWebhooksWith503AndTakesHealthDown(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir).compose(relay -> {
      deleteTree(dir.resolve("data"));
      return relay.postJson("{\"name\":\"Потерян бы был\"}")
          .compose(refused -> refusedAndDown(ctx, relay, refused, "is gone"))
          .map(down -> {
            ctx.verify(() -> assertTrue(relay.portal().leads().isEmpty()));
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDeletedWriteAheadLogRefusesWebhooksWith503AndTakesHealthDown(Vertx vertx, VertxTestContext ctx) {
    // SQLite keeps writing to the unlinked -wal; a crash then loses every webhook answered 200 since the delete.
    TestRelay.startWithPortal(vertx, dir).compose(relay -> relay.postJson("{\"name\":\"До удаления\"}")
        .compose(before -> {
          deleteTree(dir.resolve("data/leadrelay.db-wal"));
          return relay.postJson("{\"name\":\"Потерян бы был\"}");
        })
        .compose(refused -> refusedAndDown(ctx, relay, refused, "leadrelay.db-wal is gone")))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aFullDiskRefusesWebhooksWith503AndIsDownUntilWritesGoThroughAgain(Vertx vertx, VertxTestContext ctx) {
    String big = "{\"name\":\"Анна\",\"comment\":\"" + "x".repeat(20_000) + "\"}";
    TestRelay.startWithPortal(vertx, dir).compose(relay -> StoreFaults.fillDisk(relay.relay().store())
        .compose(full -> relay.postJson(big))
        .compose(refused -> {
          ctx.verify(() -> {
            assertEquals(503, refused.statusCode(), refused.bodyAsString());
            assertEquals("store_unavailable", refused.bodyAsJsonObject().getString("error"));
          });
          return health(relay);
        })
        .compose(down -> {
          ctx.verify(() -> {
            assertEquals(503, down.statusCode());
            JsonObject store = down.bodyAsJsonObject().getJsonObject("parts").getJsonObject("store");
            assertEquals("DOWN", store.getString("status"), down.bodyAsString());
            assertTrue(store.getString("reason").contains("full"), store.encode());
            assertFalse(down.bodyAsString().contains("xxxx"), "no payload in /health");
          });
          return StoreFaults.freeDisk(relay.relay().store());
        })
        .compose(freed -> relay.postJson(big))
        .compose(accepted -> {
          ctx.verify(() -> assertEquals(200, accepted.statusCode(), accepted.bodyAsString()));
          return health(relay);
        })
        .map(up -> {
          ctx.verify(() -> assertEquals(200, up.statusCode(), up.bodyAsString()));
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The webhook was refused with 503 store_unavailable, and /health says DOWN with a store reason naming why. */
  private static Future<Void> refusedAndDown(VertxTestContext ctx, TestRelay relay, HttpResponse<Buffer> refused,
      String why) {
    ctx.verify(() -> {
      assertEquals(503, refused.statusCode(), refused.bodyAsString());
      assertEquals("store_unavailable", refused.bodyAsJsonObject().getString("error"));
    });
    return health(relay).map(health -> {
      ctx.verify(() -> {
        assertEquals(503, health.statusCode());
        JsonObject store = health.bodyAsJsonObject().getJsonObject("parts").getJsonObject("store");
        assertEquals("DOWN", store.getString("status"), health.bodyAsString());
        assertTrue(store.getString("reason").contains(why), store.encode());
      });
      return null;
    });
  }

  private static Future<HttpResponse<Buffer>> health(TestRelay relay) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send();
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
