package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.PortalConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BitrixClient#batch} and {@link BitrixClient#findLeads} against a small portal stand-in on port 0. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 5, timeUnit = TimeUnit.SECONDS)
class BatchClientTest {

  private static final String CODE = "k9secretwebhookcode";

  /** What the stand-in portal answers to one request. */
  private record Answer(int status, String body) {
    static Answer ok(JsonObject body) {
      return new Answer(200, body.encode());
    }
  }

  /** One request the stand-in received: the REST method from its path, and its JSON body. */
  private record Received(String method, JsonObject body) {
  }

  private interface Portal {
    /** Null means: never answer. */
    Answer answer(String method, JsonObject body);
  }

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private volatile Portal portal;
  private PortalConfig config;
  private BitrixClient client;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    client = new BitrixClient(vertx, new BitrixHttpConfig(300, 1_500, 2));
    vertx.createHttpServer()
        .requestHandler(this::handle)
        .listen(0)
        .onComplete(ctx.succeeding(started -> {
          config = PortalConfig.parse("test", "http://localhost:" + started.actualPort() + "/rest/1/" + CODE + "/");
          ctx.completeNow();
        }));
  }

  @AfterEach
  void stop() {
    client.close();
  }

  private void handle(HttpServerRequest request) {
    String prefix = "/rest/1/" + CODE + "/";
    request.body().onSuccess(buffer -> {
      if (!request.path().startsWith(prefix) || !request.path().endsWith(".json")) {
        request.response().setStatusCode(401)
            .end(new JsonObject().put("error", "NO_AUTH_FOUND").put("error_description", "Wrong code").encode());
        return;
      }
      String method = request.path().substring(prefix.length(), request.path().length() - ".json".length());
      JsonObject body = buffer.toJsonObject();
      received.add(new Received(method, body));
      Answer answer = portal.answer(method, body);
      if (answer != null) {
        request.response().setStatusCode(answer.status()).putHeader("Content-Type", "application/json")
            .end(answer.body());
      }
    });
  }

  private static Map<String, String> leadCommands(String... originIds) {
    BatchEncoder encoder = new BatchEncoder();
    Map<String, String> commands = new LinkedHashMap<>();
    for (String originId : originIds) {
      commands.put(originId, encoder.command("crm.lead.add", new JsonObject()
          .put("fields", new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", "Lead " + originId)
              .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", originId))
          .put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"))));
    }
    return commands;
  }

  /** The failure of a call expected to fail, after checking its texts do not reveal the webhook code. */
  private static Future<BitrixError> failureOf(Future<?> call) {
    return call.transform(ar -> {
      if (ar.succeeded()) {
        return Future.failedFuture(new AssertionError("expected a failure, got " + ar.result()));
      }
      if (!(ar.cause() instanceof BitrixException failure)) {
        return Future.failedFuture(new AssertionError("expected a BitrixException", ar.cause()));
      }
      for (String text : new String[] {failure.getMessage(), failure.error().description(), failure.error().reason()}) {
        if (text != null && text.contains(CODE)) {
          return Future.failedFuture(new AssertionError("the webhook code leaked into an error text"));
        }
      }
      return Future.succeededFuture(failure.error());
    });
  }

  @Test
  void sendsOneBatchCallAndYieldsEachCommandsOutcome(VertxTestContext ctx) {
    portal = (method, body) -> Answer.ok(new JsonObject()
        .put("result", new JsonObject()
            .put("result", new JsonObject().put("01A", 7001).put("01C", "7003"))
            .put("result_error", new JsonObject().put("01B", new JsonObject().put("error", "")
                .put("error_description", "Required fields are not filled: Phone")))
            .put("result_total", new JsonArray())
            .put("result_next", new JsonArray())
            .put("result_time", new JsonObject().put("01A", new JsonObject().put("operating", 0.3))))
        .put("time", new JsonObject().put("duration", 0.9).put("operating", 0)));

    client.batch(config, leadCommands("01A", "01B", "01C")).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
      assertEquals(1, received.size(), "one request for the whole batch");
      Received call = received.get(0);
      assertEquals("batch", call.method());
      assertEquals(0, call.body().getInteger("halt"));
      JsonObject cmd = call.body().getJsonObject("cmd");
      assertEquals(List.of("01A", "01B", "01C"), new ArrayList<>(cmd.fieldNames()));
      assertTrue(cmd.getString("01B").startsWith("crm.lead.add?fields%5BTITLE%5D=%D0%9D%D0%BE%D0%B2"),
          cmd.getString("01B"));
      assertTrue(cmd.getString("01B").contains("&fields%5BORIGIN_ID%5D=01B&"), cmd.getString("01B"));

      assertEquals(7001L, result.outcome("01A").leadId());
      assertEquals(7003L, result.outcome("01C").leadId());
      assertEquals(ErrorClass.LEAD_REJECTED, result.outcome("01B").leadAddError().errorClass());
      assertEquals("Required fields are not filled: Phone", result.outcome("01B").error().description());
      assertEquals(0.3, result.outcome("01A").time().operating());
      assertEquals(0.9, result.time().block().getDouble("duration"));
      ctx.completeNow();
    })));
  }

  @Test
  void commandErrorTextsNeverCarryTheWebhookCode(VertxTestContext ctx) {
    portal = (method, body) -> Answer.ok(new JsonObject().put("result", new JsonObject()
        .put("result", new JsonArray())
        .put("result_error", new JsonObject().put("01A", new JsonObject().put("error", "")
            .put("error_description", "Cannot call /rest/1/" + CODE + "/crm.lead.add")))));

    client.batch(config, leadCommands("01A")).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
      BitrixError error = result.outcome("01A").error();
      assertFalse(error.description().contains(CODE), error.description());
      assertFalse(error.reason().contains(CODE), error.reason());
      ctx.completeNow();
    })));
  }

  @Test
  void aRefusedBatchIsOneClassifiedFailure(VertxTestContext ctx) {
    portal = (method, body) -> new Answer(503, new JsonObject().put("error", "QUERY_LIMIT_EXCEEDED")
        .put("error_description", "Too many requests").encode());

    failureOf(client.batch(config, leadCommands("01A", "01B"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.REFUSED, error.errorClass());
      assertEquals(503, error.httpStatus());
      assertEquals(1, received.size());
      ctx.completeNow();
    })));
  }

  @Test
  void aBatchWithoutAnAnswerIsAmbiguousAndNotSentAgain(VertxTestContext ctx) {
    portal = (method, body) -> null;

    failureOf(client.batch(config, leadCommands("01A", "01B"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
      assertEquals(1, received.size());
      ctx.completeNow();
    })));
  }

  @Test
  void moreThanFiftyCommandsFailBeforeAnythingIsSent(VertxTestContext ctx) {
    portal = (method, body) -> Answer.ok(new JsonObject().put("result", new JsonObject()));
    String[] ids = new String[51];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = "d" + i;
    }

    client.batch(config, leadCommands(ids)).onComplete(ctx.failing(failure -> ctx.verify(() -> {
      assertInstanceOf(IllegalArgumentException.class, failure);
      assertTrue(received.isEmpty());
      ctx.completeNow();
    })));
  }

  @Test
  void findLeadsAsksOnceForAllIdsAndFollowsThePages(VertxTestContext ctx) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      ids.add(String.format("01ORIGIN%02d", i));
    }
    // Every id but the last two has a lead; 01ORIGIN00 has two (a duplicate from long ago): the older one counts.
    List<JsonObject> leads = new ArrayList<>();
    leads.add(new JsonObject().put("ID", "9000").put("ORIGIN_ID", "01ORIGIN00"));
    for (int i = 0; i < 58; i++) {
      leads.add(new JsonObject().put("ID", String.valueOf(9001 + i)).put("ORIGIN_ID", ids.get(i)));
    }
    portal = (method, body) -> {
      int start = body.getInteger("start");
      List<JsonObject> page = leads.subList(Math.min(start, leads.size()), Math.min(start + 50, leads.size()));
      JsonObject answer = new JsonObject().put("result", new JsonArray(new ArrayList<>(page)))
          .put("total", leads.size());
      if (start + 50 < leads.size()) {
        answer.put("next", start + 50);
      }
      return Answer.ok(answer);
    };

    client.findLeads(config, "leadrelay", ids).onComplete(ctx.succeeding(found -> ctx.verify(() -> {
      assertEquals(2, received.size(), "59 leads come in two pages of 50");
      for (Received call : received) {
        assertEquals("crm.lead.list", call.method());
        JsonObject filter = call.body().getJsonObject("filter");
        assertEquals("leadrelay", filter.getString("ORIGINATOR_ID"));
        assertEquals(new JsonArray(new ArrayList<>(ids)), filter.getJsonArray("@ORIGIN_ID"));
        assertEquals(new JsonArray().add("ID").add("ORIGIN_ID"), call.body().getJsonArray("select"));
      }
      assertEquals(0, received.get(0).body().getInteger("start"));
      assertEquals(50, received.get(1).body().getInteger("start"));

      assertEquals(58, found.size());
      assertEquals(9000L, found.get("01ORIGIN00"));
      assertEquals(9002L, found.get("01ORIGIN01"));
      assertEquals(9058L, found.get("01ORIGIN57"));
      assertNull(found.get("01ORIGIN58"), "no lead: safe to add");
      assertNull(found.get("01ORIGIN59"));
      ctx.completeNow();
    })));
  }

  @Test
  void findLeadsWithNoIdsAsksNothing(VertxTestContext ctx) {
    portal = (method, body) -> Answer.ok(new JsonObject().put("result", new JsonArray()));

    client.findLeads(config, "leadrelay", List.of()).onComplete(ctx.succeeding(found -> ctx.verify(() -> {
      assertTrue(found.isEmpty());
      assertTrue(received.isEmpty());
      ctx.completeNow();
    })));
  }

  @Test
  void anUnreadableLeadListNeverMakesALeadLookAbsent(VertxTestContext ctx) {
    portal = (method, body) -> Answer.ok(new JsonObject().put("result", new JsonArray()
        .add(new JsonObject().put("ID", "77").put("ORIGIN_ID", "01A"))
        .add(new JsonObject().put("ORIGIN_ID", "01B"))));

    failureOf(client.findLeads(config, "leadrelay", List.of("01A", "01B")))
        .onComplete(ctx.succeeding(error -> ctx.verify(() -> {
          assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
          ctx.completeNow();
        })));
  }

  @Test
  void aFailedLookUpIsClassified(VertxTestContext ctx) {
    portal = (method, body) -> new Answer(403, new JsonObject().put("error", "insufficient_scope")
        .put("error_description", "The request requires higher privileges").encode());

    failureOf(client.findLeads(config, "leadrelay", List.of("01A")))
        .onComplete(ctx.succeeding(error -> ctx.verify(() -> {
          assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
          ctx.completeNow();
        })));
  }
}
