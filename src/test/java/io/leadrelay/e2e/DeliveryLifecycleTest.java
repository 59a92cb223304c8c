package io.leadrelay.e2e;

import io.leadrelay.store.DeliveryState;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A delivery's life through Bitrix24 trouble: outages, refusals, lost answers, broken portals and bad data. What
 * must hold each time: every accepted webhook becomes exactly one lead, or is DEAD with Bitrix24's reason.
 */
@ExtendWith(VertxExtension.class)
class DeliveryLifecycleTest {

  @TempDir
  Path dir;

  /** Posts n distinct webhooks and yields their delivery ids. */
  private static Future<List<String>> post(TestRelay relay, String prefix, int n) {
    List<Future<String>> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(relay.postJson("{\"name\":\"" + prefix + " " + i + "\",\"phone\":\"+7999000" + i + "\"}")
          .map(response -> {
            if (response.statusCode() != 200) {
              throw new AssertionError("not accepted: " + response.bodyAsString());
            }
            return response.bodyAsJsonObject().getString("id");
          }));
    }
    return Future.all(ids).map(all -> all.<String>list());
  }


  @Test
  void anOutageDelaysLeadsButLosesAndDoublesNone(Vertx vertx, VertxTestContext ctx) {
    // The portal is down (connections refused) when the webhooks arrive; when it comes back it first refuses
    // with 503, then answers HTML error pages, then loses an answer after creating the lead.
    int port = FakeBitrixPortal.freePort();
    String code = FakeBitrixPortal.newCode();
    TestRelay.start(vertx, dir, FakeBitrixPortal.unusedWebhookUrl(port, code))
        .compose(relay -> post(relay, "Outage", 6)
            .compose(ids -> relay.awaitLines("error", lines -> lines.size() >= 3)
                .compose(refused -> {
                  ctx.verify(() -> assertTrue(refused.stream().allMatch(l -> "REFUSED".equals(l.getString("errorClass"))),
                      refused.toString()));
                  return FakeBitrixPortal.start(vertx, port, code);
                })
                .compose(portal -> {
                  portal.enqueue(Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"), Reply.html(502),
                      Reply.html(500), Reply.createThenDrop(), Reply.empty(503));
                  return relay.awaitExactlyOneLeadEach(portal, ids);
                })
                .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 6))
                .map(success -> {
                  ctx.verify(() -> assertTrue(success.stream().anyMatch(l -> l.getBoolean("found", false)),
                      "the lead created before the answer was lost was found, not created again"));
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aBrokenPortalIsPausedAndResumesByItself(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      for (int i = 0; i < 4; i++) {
        portal.enqueue(Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data"));
      }
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> post(relay, "Paused", 4)
              .compose(ids -> relay.pollAsync(() -> health(relay, "paused"))
                  .compose(health -> {
                    ctx.verify(() -> {
                      assertEquals("DEGRADED", health.getString("status"));
                      JsonObject state = health.getJsonObject("parts").getJsonObject("bitrix")
                          .getJsonObject("portals").getJsonObject("default");
                      assertEquals("The portal cannot take leads until someone fixes its configuration (HTTP 401"
                          + " NO_AUTH_FOUND). The full answer and what to do are in error.log.",
                          state.getString("reason"), state.encode());
                      assertTrue(state.getInteger("backlog") > 0, state.encode());
                    });
                    return relay.awaitExactlyOneLeadEach(portal, ids);
                  })
                  .compose(v -> relay.pollAsync(() -> health(relay, "active")))
                  .map(health -> {
                    ctx.verify(() -> {
                      assertEquals("UP", health.getString("status"));
                      List<JsonObject> errors = relay.lines("error");
                      assertEquals(1, errors.stream().filter(l -> l.getString("reason").startsWith("Portal paused"))
                          .count(), "one clear error.log line for the pause: " + errors);
                      assertTrue(errors.stream().noneMatch(l -> String.valueOf(l.getString("next")).startsWith("dead")),
                          "a broken portal kills no delivery");
                    });
                    return null;
                  })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static Future<JsonObject> health(TestRelay relay, String wantedState) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send().map(response -> {
      JsonObject health = response.bodyAsJsonObject();
      String state = health.getJsonObject("parts").getJsonObject("bitrix").getJsonObject("portals")
          .getJsonObject("default").getString("state");
      return wantedState.equals(state) ? health : null;
    });
  }

  @Test
  void aRejectedLeadIsDeadWithBitrixReasonAndTheOthersGoThrough(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.enqueue(Reply.error(400, "", "Не заполнено обязательное поле \"Телефон\""));
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> relay.postJson("{\"name\":\"Без телефона\"}")
              .compose(first -> {
                String deadId = first.bodyAsJsonObject().getString("id");
                return post(relay, "Normal", 3)
                    .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
                    .compose(v -> relay.pollAsync(() -> deadOrNull(relay, deadId)))
                    .map(dead -> {
                      ctx.verify(() -> {
                        assertTrue(dead.lastError().contains("Телефон"), dead.lastError());
                        assertEquals(1, dead.history().size());
                        assertEquals("LEAD_REJECTED", dead.history().get(0).errorClass());
                        JsonObject line = relay.lines("error").stream()
                            .filter(l -> deadId.equals(l.getString("deliveryId"))).findFirst().orElseThrow();
                        assertTrue(line.getString("next").startsWith("dead"), line.encode());
                      });
                      return null;
                    });
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static Future<io.leadrelay.store.DeliveryRecord> deadOrNull(TestRelay relay, String id) {
    return relay.relay().store().find(id)
        .map(found -> found.filter(record -> record.state() == DeliveryState.DEAD).orElse(null));
  }

  @Test
  void theSameBodyAgainIsTheSameDeliveryAndOneLead(Vertx vertx, VertxTestContext ctx) {
    String body = "{\"name\":\"Повтор\",\"phone\":\"+79990000000\"}";
    FakeBitrixPortal.start(vertx).compose(portal -> TestRelay.start(vertx, dir, portal.webhookUrl())
        .compose(relay -> Future.all(relay.postJson(body), relay.postJson(body), relay.postJson(body))
            .compose(all -> {
              Set<String> ids = new HashSet<>();
              for (int i = 0; i < 3; i++) {
                ids.add(all.<io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer>>resultAt(i)
                    .bodyAsJsonObject().getString("id"));
              }
              ctx.verify(() -> assertEquals(1, ids.size(), "the same id for the same body"));
              return relay.awaitExactlyOneLeadEach(portal, List.copyOf(ids))
                  .compose(v -> relay.awaitLines("webhook", lines -> lines.size() >= 3))
                  .map(lines -> {
                    ctx.verify(() -> assertEquals(2, lines.stream().filter(l -> l.getBoolean("repeat", false)).count()));
                    return null;
                  });
            })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
