package io.leadrelay.e2e;

import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's repair loop end to end: a lead Bitrix24 refuses goes DEAD; the relay is restarted with a mapping
 * that sends what the portal requires; the admin API shows the fixed fields and replays the delivery, and exactly
 * one lead is created, identified by the delivery id.
 */
@ExtendWith(VertxExtension.class)
class AdminReplayTest {

  private static final String PHONE = "+79991234567";
  /** The payload carries the phone under a custom key the default mapping only copies into COMMENTS. */
  private static final String PAYLOAD = "{\"name\":\"Иван\",\"Телефон\":\"" + PHONE + "\"}";
  private static final MappingConfig FIXED = MappingConfig.fromJson(
      new JsonObject().put("fieldMap", new JsonObject().put("Телефон", "PHONE")), "mapping");

  @TempDir
  Path dir;

  @Test
  void adminReplayOfADeadDeliveryAfterFixingTheMappingCreatesTheLead(Vertx vertx, VertxTestContext ctx) {
    // The first relay runs on a Vert.x of its own so that closing it stops the relay and closes its store.
    Vertx firstVertx = Vertx.vertx();
    Context testContext = vertx.getOrCreateContext();
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.enqueue(Reply.error(400, "", "Не заполнено обязательное поле \"Телефон\""));
      return TestRelay.start(firstVertx, dir, portal.webhookUrl())
          .compose(first -> first.postJson(PAYLOAD)
              .compose(accepted -> {
                String id = accepted.bodyAsJsonObject().getString("id");
                return first.pollAsync(() -> get(first, "/admin/deliveries/" + id)
                    .map(shown -> "DEAD".equals(shown.getString("state")) ? shown : null))
                    .map(dead -> {
                      ctx.verify(() -> {
                        assertTrue(dead.getString("lastError").contains("Телефон"), dead.encode());
                        assertFalse(dead.getJsonObject("mappedFields").containsKey("PHONE"),
                            "the broken mapping sends no PHONE: " + dead.encode());
                        assertTrue(portal.leads().isEmpty());
                      });
                      return id;
                    });
              }))
          .onFailure(ctx::failNow)
          // Callbacks chained here would run on the closed Vert.x's event loop: carry on on the test's own.
          .onSuccess(id -> firstVertx.close().onComplete(closed -> testContext.runOnContext(v -> {
            if (closed.failed()) {
              ctx.failNow(closed.cause());
              return;
            }
            TestRelay.start(vertx, dir, portal.webhookUrl(), FIXED)
                .compose(second -> replay(ctx, portal, second, id))
                .onComplete(ctx.succeedingThenComplete());
          })));
    }).onFailure(ctx::failNow);
  }

  private Future<Void> replay(VertxTestContext ctx, FakeBitrixPortal portal, TestRelay relay, String id) {
    return get(relay, "/admin/deliveries/" + id)
        .compose(shown -> {
          ctx.verify(() -> {
            assertEquals("DEAD", shown.getString("state"), "still DEAD after the restart: nothing replays by itself");
            JsonObject mapped = shown.getJsonObject("mappedFields");
            assertEquals(PHONE, mapped.getJsonArray("PHONE").getJsonObject(0).getString("VALUE"), mapped.encode());
          });
          return relay.client().post(relay.port(), "127.0.0.1", "/admin/deliveries/" + id + "/retry")
              .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send();
        })
        .compose(retried -> {
          ctx.verify(() -> assertEquals(202, retried.statusCode(), retried.bodyAsString()));
          return relay.pollAsync(() -> get(relay, "/admin/deliveries/" + id)
              .map(shown -> "DELIVERED".equals(shown.getString("state")) ? shown : null));
        })
        .map(delivered -> {
          ctx.verify(() -> {
            List<JsonObject> leads = portal.leads();
            assertEquals(1, leads.size(), "exactly one lead: " + leads);
            JsonObject lead = leads.get(0);
            assertEquals(id, lead.getString("ORIGIN_ID"));
            assertEquals(PHONE, lead.getJsonArray("PHONE").getJsonObject(0).getString("VALUE"), lead.encode());
            assertEquals(portal.leadIds().get(0), delivered.getLong("leadId"));
            assertEquals(2, delivered.getJsonArray("history").size(), "the refusal and the creation");
          });
          return null;
        });
  }

  private static Future<JsonObject> get(TestRelay relay, String path) {
    return relay.client().get(relay.port(), "127.0.0.1", path)
        .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN)
        .send()
        .map(HttpResponse<Buffer>::bodyAsJsonObject);
  }
}
