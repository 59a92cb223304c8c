package io.leadrelay.e2e;

import io.leadrelay.testing.TestPostgres;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The relay's real verticles on the shared PostgreSQL store: webhooks in, exactly one lead each, health and admin. */
@ExtendWith(VertxExtension.class)
class PostgresRelayTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  @TempDir
  Path dir;

  @Test
  void webhooksBecomeOneLeadEachWithTheStoreInPostgres(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortalOnPostgres(vertx, dir, database.settings(), "node-1").compose(relay -> {
      List<Future<String>> ids = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        ids.add(relay.postJson("{\"name\":\"Иван " + i + "\",\"phone\":\"+7999000" + i + "\",\"sum\":1.50}")
            .map(response -> response.bodyAsJsonObject().getString("id")));
      }
      // A repeat of the first body: the same delivery, no second lead.
      ids.add(relay.postJson("{\"name\":\"Иван 0\",\"phone\":\"+79990000\",\"sum\":1.50}")
          .map(response -> response.bodyAsJsonObject().getString("id")));
      return Future.all(ids).compose(all -> {
        List<String> accepted = ids.stream().map(Future::result).distinct().toList();
        ctx.verify(() -> assertEquals(30, accepted.size(), "the repeat named the first delivery"));
        return relay.awaitExactlyOneLeadEach(relay.portal(), accepted);
      }).compose(delivered -> relay.client().get(relay.port(), "127.0.0.1", "/health").send())
          .compose(health -> relay.client().get(relay.port(), "127.0.0.1", "/admin/deliveries?state=DELIVERED")
              .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send()
              .map(admin -> {
                ctx.verify(() -> {
                  assertTrue(health.bodyAsString().contains("postgresql://"), health.bodyAsString());
                  assertEquals(200, admin.statusCode(), admin.bodyAsString());
                  assertTrue(admin.bodyAsString().contains("DELIVERED"), admin.bodyAsString());
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
