package io.leadrelay.e2e;

import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.testing.LegacyRows;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A store holding a row an older release wrote from the poison webhook ({@code "a\ud800"} stored as
 * {@code "a?"} beside a real {@code "a?"}: a payload with a duplicate key). Before, every sweep failed on it and
 * nothing after a restart was ever delivered; now it is quarantined and the rest is delivered.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PoisonRowTest {

  private static final String POISON = "{\"name\":\"x\",\"a?\":1,\"a?\":2}";

  @TempDir
  Path dir;

  @Test
  void theGoodRowsAreDeliveredAndThePoisonedOneIsDeadWithItsReason(Vertx vertx, VertxTestContext ctx) {
    Path db = dir.resolve("data/leadrelay.db");
    List<String> good = new ArrayList<>();
    long at = System.currentTimeMillis() - 60_000;
    SqliteDeliveryStore.open(vertx, db, "FULL").compose(SqliteDeliveryStore::close)
        .compose(created -> vertx.executeBlocking(() -> {
          // Left PENDING by a relay that stopped: the poisoned row sorts first, the way it blocked every sweep.
          LegacyRows.insertPending(db, "01POISON", "default", at, POISON);
          for (int i = 0; i < 20; i++) {
            String id = "01GOOD" + String.format("%02d", i);
            LegacyRows.insertPending(db, id, "default", at + 1 + i, "{\"name\":\"Лид " + i + "\"}");
            good.add(id);
          }
          return null;
        }))
        .compose(rows -> TestRelay.startWithPortal(vertx, dir))
        .compose(relay -> relay.awaitExactlyOneLeadEach(relay.portal(), good)
            .compose(delivered -> admin(relay, "/admin/deliveries?state=DEAD"))
            .compose(dead -> {
              ctx.verify(() -> {
                JsonArray listed = dead.bodyAsJsonObject().getJsonArray("deliveries");
                assertEquals(1, listed.size(), listed.encode());
                JsonObject poisoned = listed.getJsonObject(0);
                assertEquals("01POISON", poisoned.getString("id"));
                assertTrue(poisoned.getString("lastError").startsWith("stored payload cannot be read: "),
                    poisoned.encode());
              });
              return admin(relay, "/admin/deliveries/01POISON");
            })
            .map(shown -> {
              ctx.verify(() -> {
                assertEquals(200, shown.statusCode(), shown.bodyAsString());
                assertEquals(POISON, shown.bodyAsJsonObject().getString("unreadablePayload"));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static Future<HttpResponse<Buffer>> admin(TestRelay relay, String path) {
    return relay.client().get(relay.port(), "127.0.0.1", path)
        .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send();
  }
}
