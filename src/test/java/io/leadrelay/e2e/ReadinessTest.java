package io.leadrelay.e2e;

import io.leadrelay.store.StoreFaults;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /health/ready, what load balancers and Kubernetes ask: a node whose leads wait (DEGRADED) still takes webhooks
 * and stays in rotation; a node that cannot keep them (store failing) is out until it can again.
 */
@ExtendWith(VertxExtension.class)
class ReadinessTest {

  @TempDir
  Path dir;

  @Test
  void aHealthCheckOnAPathNotServedIsToldWhereTheCheckGoes(Vertx vertx, VertxTestContext ctx) {
    String told = "No such health check; a load balancer checks GET /health/ready (also served: /health/live and"
        + " /health).";
    TestRelay.start(vertx, dir, "http://127.0.0.1:9/rest/1/test-c0de-x1/").compose(relay -> get(relay, "/healthz")
        .compose(wrong -> {
          ctx.verify(() -> {
            assertEquals(404, wrong.statusCode());
            assertEquals("not_found", wrong.bodyAsJsonObject().getString("error"));
            assertEquals(told, wrong.bodyAsJsonObject().getString("message"));
          });
          // The operator reads it in error.log too, where the load balancer's every check leaves a line.
          return relay.awaitLines("error", lines -> lines.stream().anyMatch(line -> told.equals(
              line.getString("reason"))));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aPausedPortalIsDegradedButTheNodeStaysReady(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.faults(() -> Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data"));
      return TestRelay.start(vertx, dir, portal.webhookUrl());
    }).compose(relay -> relay.postJson("{\"name\":\"Анна\"}")
        .compose(accepted -> relay.pollAsync(() -> get(relay, "/health").map(health ->
            health.bodyAsJsonObject().getJsonArray("conditions").isEmpty() ? null : health)))
        .compose(degraded -> {
          ctx.verify(() -> {
            assertEquals(200, degraded.statusCode());
            JsonObject body = degraded.bodyAsJsonObject();
            assertEquals("DEGRADED", body.getString("status"));
            JsonObject paused = body.getJsonArray("conditions").getJsonObject(0);
            assertEquals("PORTAL_PAUSED", paused.getString("condition"));
            assertEquals("default", paused.getString("integration"));
            assertTrue(paused.getString("reason").contains("(HTTP 401 NO_AUTH_FOUND)"), paused.encode());
          });
          return get(relay, "/health/ready");
        })
        .map(ready -> {
          ctx.verify(() -> {
            assertEquals(200, ready.statusCode(), ready.bodyAsString());
            assertEquals("UP", ready.bodyAsJsonObject().getString("status"));
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aStoreThatCannotCommitTakesTheNodeOutUntilItCanAgain(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir).compose(relay -> StoreFaults.fillDisk(relay.relay().store())
        .compose(full -> relay.postJson("{\"name\":\"Анна\",\"comment\":\"" + "x".repeat(20_000) + "\"}"))
        .compose(refused -> get(relay, "/health/ready"))
        .compose(notReady -> {
          ctx.verify(() -> {
            assertEquals(503, notReady.statusCode(), notReady.bodyAsString());
            JsonObject body = notReady.bodyAsJsonObject();
            assertEquals("DOWN", body.getString("status"));
            assertEquals("STORE_FAILING", body.getJsonArray("conditions").getJsonObject(0).getString("condition"));
          });
          return get(relay, "/health");
        })
        .compose(down -> {
          ctx.verify(() -> {
            assertEquals(503, down.statusCode());
            assertEquals("DOWN", down.bodyAsJsonObject().getString("status"));
          });
          return StoreFaults.freeDisk(relay.relay().store());
        })
        .compose(freed -> relay.postJson("{\"name\":\"Анна\"}"))
        .compose(accepted -> get(relay, "/health/ready"))
        .map(ready -> {
          ctx.verify(() -> assertEquals(200, ready.statusCode(), ready.bodyAsString()));
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static Future<HttpResponse<Buffer>> get(TestRelay relay, String path) {
    return relay.client().get(relay.port(), "127.0.0.1", path).send();
  }
}
