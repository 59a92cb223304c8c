package io.leadrelay.http;

import io.leadrelay.config.AdminConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.LogConfig;
import io.leadrelay.logging.LogVerticle;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API over real HTTP on a real store, without the delivery verticles: what is stored stays as the test
 * put it, so every answer can be checked exactly. Four deliveries, oldest first: DEAD, DELIVERED, PENDING, DEAD.
 */
@ExtendWith(VertxExtension.class)
class AdminApiTest {

  private static final String TOKEN = TestRelay.ADMIN_TOKEN;
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  /** The current mapping sends the payload's "Телефон" as PHONE: the effect must show in mappedFields. */
  private static final MappingConfig FIXED_MAPPING =
      MappingConfig.fromJson(new JsonObject().put("fieldMap", new JsonObject().put("Телефон", "PHONE")), "mapping");

  @TempDir
  Path dir;

  private Vertx vertx;
  private DeliveryStore store;
  private WebClient client;
  private int port;
  private String deadOld;
  private String delivered;
  private String pending;
  private String deadNew;

  @BeforeEach
  void storeWithFourDeliveries(Vertx vertx) {
    this.vertx = vertx;
    client = WebClient.create(vertx);
    store = await(SqliteDeliveryStore.open(vertx, dir.resolve("data/leadrelay.db"), "NORMAL"));
    await(vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> stop() {
        return store.close();
      }
    }));
    deadOld = accept(0, "{\"name\":\"Без телефона\",\"Телефон\":\"+79990001122\"}");
    await(store.markDead(deadOld, "Bitrix24 refused the lead (HTTP 400): Не заполнено обязательное поле \"Телефон\"",
        new Attempt(T0.plusSeconds(1), "rejected", "LEAD_REJECTED", 400, "",
            "Не заполнено обязательное поле \"Телефон\"", new JsonObject().put("TITLE", "Новый лид из BotHelp"))));
    delivered = accept(10, "{\"name\":\"Готово\"}");
    await(store.markDelivered(delivered, 4711L, new Attempt(T0.plusSeconds(11), "created", null, 200, null, null,
        null)));
    pending = accept(20, "{\"name\":\"Ждёт\"}");
    deadNew = accept(30, "{\"name\":\"Тоже мёртв\"}");
    await(store.markDead(deadNew, "too old", new Attempt(T0.plusSeconds(31), "expired", null, null, null, null,
        null)));
  }

  /** Stores a delivery received {@code seconds} after T0 (ids sort by arrival, as in production). */
  private String accept(int seconds, String json) {
    Instant at = T0.plusSeconds(seconds);
    String id = new DeliveryIds(Clock.fixed(at, ZoneOffset.UTC)).next();
    JsonObject payload = new JsonObject(json);
    await(store.accept(new NewDelivery(new Delivery(id, "default", at, "203.0.113.7", payload), "hash-" + id),
        Duration.ofMinutes(10), null));
    return id;
  }

  /** The log verticle masks no secret here: the admin routes themselves must keep the token out of error.log. */
  private Future<Void> startHttp(AdminConfig admin) {
    AtomicInteger actualPort = new AtomicInteger();
    Map<String, IntegrationConfig> integrations = Map.of("default",
        new IntegrationConfig("default", TestRelay.SECRET, java.util.Optional.empty(), FIXED_MAPPING));
    return vertx.deployVerticle(new LogVerticle(new LogConfig(dir.resolve("logs"), "10MB", 7, "100MB"), Set.of()),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
        .compose(id -> vertx.deployVerticle(new HttpVerticle(TestRelay.http(), TestRelay.FAST, store, integrations,
            admin, actualPort::set)))
        .map(id -> {
          port = actualPort.get();
          return null;
        });
  }

  private Future<HttpResponse<Buffer>> call(String method, String uri, String authorization) {
    HttpRequest<Buffer> request = client.request(io.vertx.core.http.HttpMethod.valueOf(method), port, "127.0.0.1", uri);
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return request.send();
  }

  private Future<HttpResponse<Buffer>> admin(String method, String uri) {
    return call(method, uri, "Bearer " + TOKEN);
  }

  private static List<String> ids(HttpResponse<Buffer> response) {
    return response.bodyAsJsonObject().getJsonArray("deliveries").stream()
        .map(row -> ((JsonObject) row).getString("id")).toList();
  }

  @Test
  void withoutTheRightTokenEverythingIs401AndTheTokenIsNeverLogged(VertxTestContext ctx) {
    String wrong = "wrong-token-that-must-not-be-logged";
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> Future.all(
            call("GET", "/admin/deliveries", null),
            call("GET", "/admin/deliveries", "Bearer " + wrong),
            call("POST", "/admin/deliveries/" + deadOld + "/retry", "Basic " + TOKEN),
            call("POST", "/admin/deliveries/retry?state=DEAD", "Bearer " + TOKEN + "x")))
        .compose(all -> {
          ctx.verify(() -> {
            for (int i = 0; i < 4; i++) {
              HttpResponse<Buffer> response = all.resultAt(i);
              assertEquals(401, response.statusCode(), response.bodyAsString());
              assertEquals("Bearer", response.getHeader("WWW-Authenticate"));
              JsonObject body = response.bodyAsJsonObject();
              assertEquals(false, body.getBoolean("ok"));
              assertEquals("unauthorized", body.getString("error"));
              assertFalse(body.encode().contains(wrong) || body.encode().contains(TOKEN), body.encode());
            }
          });
          return awaitErrorLines(4);
        })
        .compose(lines -> store.find(deadOld).map(found -> {
          ctx.verify(() -> {
            assertTrue(lines.stream().allMatch(l -> "unauthorized".equals(l.getString("error"))
                && l.getInteger("httpStatus") == 401 && "127.0.0.1".equals(l.getString("remoteAddress"))), lines.toString());
            String logged = read(dir.resolve("logs/error.log"));
            assertFalse(logged.contains(wrong), logged);
            assertFalse(logged.contains(TOKEN), logged);
            assertEquals(DeliveryState.DEAD, found.orElseThrow().state(), "a refused retry changes nothing");
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void listsNewestFirstByStateAndInPages(VertxTestContext ctx) {
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> admin("GET", "/admin/deliveries?state=DEAD"))
        .compose(dead -> {
          ctx.verify(() -> {
            assertEquals(200, dead.statusCode());
            assertEquals(List.of(deadNew, deadOld), ids(dead));
            assertNull(dead.bodyAsJsonObject().getValue("next"));
            JsonObject row = dead.bodyAsJsonObject().getJsonArray("deliveries").getJsonObject(1);
            assertEquals("DEAD", row.getString("state"));
            assertTrue(row.getString("lastError").contains("Телефон"), row.encode());
            assertFalse(row.containsKey("payload"), "the listing is a summary");
          });
          return admin("GET", "/admin/deliveries?limit=2");
        })
        .compose(first -> {
          String next = first.bodyAsJsonObject().getString("next");
          ctx.verify(() -> {
            assertEquals(List.of(deadNew, pending), ids(first));
            assertEquals(pending, next);
          });
          return admin("GET", "/admin/deliveries?limit=2&before=" + next);
        })
        .onSuccess(second -> ctx.verify(() -> {
          assertEquals(List.of(delivered, deadOld), ids(second));
          assertNull(second.bodyAsJsonObject().getValue("next"), "the last page says so");
          JsonObject row = second.bodyAsJsonObject().getJsonArray("deliveries").getJsonObject(0);
          assertEquals(4711L, row.getLong("leadId"));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aBadStateLimitOrCursorIs400WithTheReason(VertxTestContext ctx) {
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> Future.all(
            admin("GET", "/admin/deliveries?state=LOST"),
            admin("GET", "/admin/deliveries?limit=0"),
            admin("GET", "/admin/deliveries?limit=501"),
            admin("GET", "/admin/deliveries?before=not-an-id")))
        .onSuccess(all -> ctx.verify(() -> {
          String[] expected = {"state must be PENDING, DELIVERED or DEAD, got 'LOST'.",
              "limit must be a whole number from 1 to 500, got '0'.",
              "limit must be a whole number from 1 to 500, got '501'.",
              "before must be a delivery id"};
          for (int i = 0; i < expected.length; i++) {
            HttpResponse<Buffer> response = all.resultAt(i);
            assertEquals(400, response.statusCode());
            assertEquals("bad_request", response.bodyAsJsonObject().getString("error"));
            assertTrue(response.bodyAsJsonObject().getString("message").startsWith(expected[i]),
                response.bodyAsString());
          }
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void showsPayloadHistoryAndWhatTheCurrentMappingWouldSend(VertxTestContext ctx) {
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> admin("GET", "/admin/deliveries/" + deadOld))
        .compose(shown -> {
          ctx.verify(() -> {
            assertEquals(200, shown.statusCode());
            JsonObject body = shown.bodyAsJsonObject();
            assertEquals("DEAD", body.getString("state"));
            assertEquals("+79990001122", body.getJsonObject("payload").getString("Телефон"));
            JsonArray history = body.getJsonArray("history");
            assertEquals(1, history.size());
            assertEquals("LEAD_REJECTED", history.getJsonObject(0).getString("errorClass"));
            assertEquals("Новый лид из BotHelp", body.getJsonObject("lastFields").getString("TITLE"));
            JsonObject mapped = body.getJsonObject("mappedFields");
            assertEquals("+79990001122", mapped.getJsonArray("PHONE").getJsonObject(0).getString("VALUE"));
            assertEquals(deadOld, mapped.getString("ORIGIN_ID"));
            assertEquals("Без телефона", mapped.getString("NAME"));
          });
          return admin("GET", "/admin/deliveries/01KAQ3V8N5X6Q0G1M2ZC4T7H9E");
        })
        .onSuccess(unknown -> ctx.verify(() -> {
          assertEquals(404, unknown.statusCode());
          assertEquals("not_found", unknown.bodyAsJsonObject().getString("error"));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void retryMakesADeadDeliveryPendingAndDueButNeverReplaysADeliveredOne(VertxTestContext ctx) {
    Instant before = Instant.now();
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> admin("POST", "/admin/deliveries/" + deadOld + "/retry"))
        .compose(retried -> {
          ctx.verify(() -> {
            assertEquals(202, retried.statusCode(), retried.bodyAsString());
            assertEquals(new JsonObject().put("ok", true).put("id", deadOld).put("state", "PENDING"),
                retried.bodyAsJsonObject());
          });
          return store.find(deadOld);
        })
        .compose(found -> {
          DeliveryRecord record = found.orElseThrow();
          ctx.verify(() -> {
            assertEquals(DeliveryState.PENDING, record.state());
            assertFalse(record.nextAttemptAt().isBefore(before.minusSeconds(1)), "due now");
            assertFalse(record.nextAttemptAt().isAfter(Instant.now()), "due now");
            assertEquals(1, record.history().size(), "the history is kept");
          });
          return admin("POST", "/admin/deliveries/" + delivered + "/retry");
        })
        .compose(refused -> {
          ctx.verify(() -> {
            assertEquals(409, refused.statusCode());
            assertEquals("not_retryable", refused.bodyAsJsonObject().getString("error"));
            assertEquals("Delivery " + delivered + " is DELIVERED (lead 4711): replaying it would create a second lead.",
                refused.bodyAsJsonObject().getString("message"));
          });
          return admin("POST", "/admin/deliveries/01KAQ3V8N5X6Q0G1M2ZC4T7H9E/retry");
        })
        .compose(unknown -> {
          ctx.verify(() -> assertEquals(404, unknown.statusCode()));
          return store.find(delivered);
        })
        .onSuccess(stillDelivered -> ctx.verify(() ->
            assertEquals(DeliveryState.DELIVERED, stillDelivered.orElseThrow().state())))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void bulkRetryReplaysEveryDeadDeliveryAndRefusesDelivered(VertxTestContext ctx) {
    startHttp(new AdminConfig(TOKEN))
        .compose(v -> Future.all(
            admin("POST", "/admin/deliveries/retry?state=DELIVERED"),
            admin("POST", "/admin/deliveries/retry")))
        .compose(refused -> {
          ctx.verify(() -> {
            for (int i = 0; i < 2; i++) {
              HttpResponse<Buffer> response = refused.resultAt(i);
              assertEquals(400, response.statusCode(), response.bodyAsString());
              assertTrue(response.bodyAsJsonObject().getString("message").startsWith("state must be DEAD or PENDING"));
            }
          });
          return admin("POST", "/admin/deliveries/retry?state=dead");
        })
        .compose(retried -> {
          ctx.verify(() -> {
            assertEquals(200, retried.statusCode());
            assertEquals(2, retried.bodyAsJsonObject().getInteger("retried"));
          });
          return admin("GET", "/admin/deliveries?state=PENDING");
        })
        .onSuccess(pendingNow -> ctx.verify(() ->
            assertEquals(List.of(deadNew, pending, deadOld), ids(pendingNow))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void withoutAnAdminTokenThereIsNoAdminApi(VertxTestContext ctx) {
    startHttp(new AdminConfig(null))
        .compose(v -> Future.all(
            admin("GET", "/admin/deliveries"),
            admin("POST", "/admin/deliveries/" + deadOld + "/retry")))
        .compose(all -> {
          ctx.verify(() -> {
            for (int i = 0; i < 2; i++) {
              HttpResponse<Buffer> response = all.resultAt(i);
              assertEquals(404, response.statusCode());
              assertEquals("not_found", response.bodyAsJsonObject().getString("error"));
            }
          });
          return store.find(deadOld);
        })
        .onSuccess(found -> ctx.verify(() -> assertEquals(DeliveryState.DEAD, found.orElseThrow().state())))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** error.log's lines once there are at least n (the log verticle writes asynchronously). */
  private Future<List<JsonObject>> awaitErrorLines(int n) {
    Promise<List<JsonObject>> promise = Promise.promise();
    long deadline = System.currentTimeMillis() + 5_000;
    vertx.setPeriodic(0, 20, timer -> {
      Path file = dir.resolve("logs/error.log");
      List<JsonObject> lines = Files.exists(file)
          ? read(file).lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList() : List.of();
      if (lines.size() >= n || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(timer);
        promise.complete(lines);
      }
    });
    return promise.future();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within 5 s", e);
    }
  }
}
