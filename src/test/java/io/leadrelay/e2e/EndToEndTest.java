package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.Resources;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A BotHelp webhook through the real verticles to a fake Bitrix24 portal, and what the logs then say. */
@ExtendWith(VertxExtension.class)
class EndToEndTest {

  @TempDir
  Path dir;
  private FakeBitrixPortal portal;
  private TestRelay relay;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir).onComplete(ctx.succeeding(r -> {
      relay = r;
      portal = r.portal();
      ctx.completeNow();
    }));
  }

  @Test
  void theSeedExampleBecomesTheSeedLead(VertxTestContext ctx) {
    String seed = Resources.text("seed-example.json");
    relay.postJson(seed)
        .compose(response -> {
          ctx.verify(() -> {
            assertEquals(200, response.statusCode());
            JsonObject body = response.bodyAsJsonObject();
            assertEquals(true, body.getBoolean("ok"));
            assertTrue(body.getString("id").matches("[0-9A-Z]{26}"));
          });
          String id = response.bodyAsJsonObject().getString("id");
          return relay.awaitLines("success", lines -> !lines.isEmpty()).map(lines -> {
            ctx.verify(() -> {
              JsonObject expected = Resources.json("seed-example.expected-lead.json")
                  .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", id);
              assertEquals(List.of(expected), portal.leads());
              FakeBitrixPortal.Call call = portal.calls().get(0);
              assertEquals("crm.lead.add", call.method());
              assertEquals(new JsonObject().put("REGISTER_SONET_EVENT", "Y"), call.body().getJsonObject("params"));
              assertEquals(expected.getString("COMMENTS"), call.body().getJsonObject("fields").getString("COMMENTS"));

              JsonObject success = lines.get(0);
              assertEquals(id, success.getString("id"));
              assertEquals("default", success.getString("integration"));
              assertNotNull(success.getLong("leadId"));
              assertTrue(success.getLong("elapsedMs") >= 0);

              JsonObject webhook = relay.lines("webhook").get(0);
              assertEquals(id, webhook.getString("id"));
              assertEquals(new JsonObject(seed), webhook.getJsonObject("payload"));
            });
            return lines;
          });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aFormEncodedWebhookMakesTheSameLead(VertxTestContext ctx) {
    relay.post("/webhook/default/" + TestRelay.SECRET, "application/x-www-form-urlencoded",
            Buffer.buffer("name=%D0%98%D0%BC%D1%8F&phone=%2B79990001122&%D0%93%D0%BE%D1%80%D0%BE%D0%B4=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C"))
        .compose(response -> {
          ctx.verify(() -> assertEquals(200, response.statusCode()));
          return relay.poll(() -> portal.leads().isEmpty() ? null : portal.leads().get(0));
        })
        .onComplete(ctx.succeeding(lead -> ctx.verify(() -> {
          assertEquals("Имя", lead.getString("NAME"));
          assertEquals("+79990001122", lead.getJsonArray("PHONE").getJsonObject(0).getString("VALUE"));
          assertEquals("Город: Казань", lead.getString("COMMENTS"));
          ctx.completeNow();
        })));
  }

  @Test
  void portalErrorsReachErrorLogWithTheirClassification(VertxTestContext ctx) {
    List<Reply> replies = List.of(
        Reply.error(400, "", "Не заполнено обязательное поле \"Телефон\""),
        Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
        Reply.html(502),
        Reply.dropConnection());
    // One at a time, each scripted just before its webhook and settled (dead, or retried into a lead) before the
    // next, so that a retry never meets another webhook's scripted reply.
    List<String> ids = new java.util.ArrayList<>();
    Future<List<JsonObject>> chain = Future.succeededFuture(List.of());
    for (int i = 0; i < replies.size(); i++) {
      Reply reply = replies.get(i);
      boolean dies = i == 0;
      chain = chain.compose(r -> {
            portal.enqueue(reply);
            return relay.postJson("{\"name\":\"Лид " + ids.size() + "\"}");
          })
          .compose(r -> {
            String id = r.bodyAsJsonObject().getString("id");
            ids.add(id);
            return relay.awaitLines("error", lines -> lines.stream().anyMatch(l -> id.equals(l.getString("deliveryId"))))
                .compose(errors -> dies ? Future.succeededFuture(errors)
                    : relay.awaitLines("success", lines -> lines.stream().anyMatch(l -> id.equals(l.getString("id"))))
                        .map(errors));
          });
    }
    chain.map(v -> relay.lines("error"))
        .map(all -> ids.stream().map(id -> all.stream().filter(l -> id.equals(l.getString("deliveryId")))
            .findFirst().orElseThrow()).toList())
        .onComplete(ctx.succeeding(lines -> ctx.verify(() -> {
          assertEquals(List.of("LEAD_REJECTED", "REFUSED", "AMBIGUOUS", "AMBIGUOUS"),
              lines.stream().map(l -> l.getString("errorClass")).toList());
          JsonObject rejected = lines.get(0);
          assertEquals("bitrix", rejected.getString("stage"));
          assertEquals(400, rejected.getInteger("httpStatus"));
          assertTrue(rejected.getString("reason").contains("Телефон"), rejected.getString("reason"));
          assertEquals("QUERY_LIMIT_EXCEEDED", lines.get(1).getString("bitrixCode"));
          assertEquals(502, lines.get(2).getInteger("httpStatus"));
          for (JsonObject line : lines) {
            assertNotNull(line.getString("deliveryId"));
            assertEquals("default", line.getString("integration"));
          }
          String rejectedId = rejected.getString("deliveryId");
          assertTrue(relay.lines("success").stream().noneMatch(l -> rejectedId.equals(l.getString("id"))),
              "a rejected lead is not retried into a success");
          ctx.completeNow();
        })));
  }

  @Test
  void noSecretEverReachesALogFileOrAnAnswer(VertxTestContext ctx) {
    // A timeout is the classic leak: HTTP clients put the request URI, with the webhook code, in their messages.
    portal.enqueue(Reply.hang(), Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data"));
    relay.postJson("{\"name\":\"Тайм-аут\"}")
        .compose(r -> relay.postJson("{\"name\":\"Без доступа\"}"))
        .compose(r -> relay.postJson("{\"name\":\"Успех\"}"))
        .compose(r -> relay.post("/webhook/default/" + TestRelay.SECRET + "x", "application/json",
            Buffer.buffer("{}")))
        .compose(r -> relay.client().get(relay.port(), "127.0.0.1", "/health").send())
        .compose(health -> {
          ctx.verify(() -> {
            assertFalse(health.bodyAsString().contains(portal.code()));
            assertTrue(health.bodyAsString().contains("/rest/1/***/"), health.bodyAsString());
          });
          return relay.awaitLines("error", lines -> lines.size() >= 3);
        })
        .compose(errors -> relay.awaitLines("success", lines -> lines.size() >= 1))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          String everything = relay.allFileContents();
          assertTrue(everything.contains("Тайм-аут"), "the logs were read");
          assertFalse(everything.contains(TestRelay.SECRET), "webhook secret in a log file");
          assertFalse(everything.contains(portal.code()), "Bitrix24 webhook code in a log file");
          ctx.completeNow();
        })));
  }

  @Test
  void healthReportsEveryPart(VertxTestContext ctx) {
    relay.client().get(relay.port(), "127.0.0.1", "/health").send()
        .onComplete(ctx.succeeding(response -> ctx.verify(() -> {
          assertEquals(200, response.statusCode());
          JsonObject body = response.bodyAsJsonObject();
          assertEquals("UP", body.getString("status"));
          for (String part : List.of("http", "mapping", "bitrix", "logs", "store")) {
            assertEquals("UP", body.getJsonObject("parts").getJsonObject(part).getString("status"), part);
          }
          ctx.completeNow();
        })));
  }

  @Test
  void healthIs503WhenARequiredPartIsDown(VertxTestContext ctx) throws Exception {
    // The log directory vanishing (a volume unmounted, a clean-up script) means webhooks would go unrecorded.
    try (var files = java.nio.file.Files.walk(relay.logDir())) {
      files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
    }
    relay.client().get(relay.port(), "127.0.0.1", "/health").send()
        .onComplete(ctx.succeeding(response -> ctx.verify(() -> {
          assertEquals(503, response.statusCode());
          JsonObject body = response.bodyAsJsonObject();
          assertEquals("DOWN", body.getString("status"));
          assertEquals("DOWN", body.getJsonObject("parts").getJsonObject("logs").getString("status"));
          assertEquals("UP", body.getJsonObject("parts").getJsonObject("mapping").getString("status"));
          ctx.completeNow();
        })));
  }
}
