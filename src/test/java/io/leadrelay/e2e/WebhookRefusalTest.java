package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.Resources;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a webhook request can be refused: the status and JSON answer the sender sees, an error.log line per
 * refusal, and nothing refused reaching the log of accepted webhooks or the Bitrix24 portal.
 */
@ExtendWith(VertxExtension.class)
class WebhookRefusalTest {

  private static final String PATH = "/webhook/default/" + TestRelay.SECRET;

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

  private record Case(String name, Future<HttpResponse<Buffer>> answer, int status, String error) {
  }

  @Test
  void refusalsAreClearJsonAnswersAndNothingRefusedIsSent(Vertx vertx, VertxTestContext ctx) {
    byte[] invalidUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'};
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("unknown integration",
        relay.post("/webhook/nosuch/" + TestRelay.SECRET, "application/json", Buffer.buffer("{}")), 404,
        "unknown_integration"));
    cases.add(new Case("wrong secret",
        relay.post("/webhook/default/wrong-secret-0123456789", "application/json", Buffer.buffer("{\"a\":1}")), 401,
        "wrong_secret"));
    cases.add(new Case("too large",
        relay.post(PATH, "application/json", Buffer.buffer("{\"a\":\"" + "x".repeat(70_000) + "\"}")), 413,
        "body_too_large"));
    cases.add(new Case("text/plain", relay.post(PATH, "text/plain", Buffer.buffer("{\"a\":1}")), 415,
        "unsupported_media_type"));
    cases.add(new Case("no content type", relay.post(PATH, null, Buffer.buffer("{\"a\":1}")), 415,
        "unsupported_media_type"));
    cases.add(new Case("empty", relay.post(PATH, "application/json", Buffer.buffer()), 400, "empty_body"));
    cases.add(new Case("malformed", relay.post(PATH, "application/json", Buffer.buffer("{\"a\":")), 400,
        "malformed_json"));
    cases.add(new Case("invalid utf-8", relay.post(PATH, "application/json", Buffer.buffer(invalidUtf8)), 400,
        "invalid_utf8"));
    cases.add(new Case("array", relay.post(PATH, "application/json", Buffer.buffer("[{\"a\":1}]")), 422,
        "not_an_object"));
    cases.add(new Case("GET", relay.client().get(relay.port(), "127.0.0.1", PATH).send(), 405,
        "method_not_allowed"));
    cases.add(new Case("unknown path", relay.client().get(relay.port(), "127.0.0.1", "/").send(), 404,
        "not_found"));

    Future.all(cases.stream().map(Case::answer).toList())
        .compose(all -> {
          ctx.verify(() -> {
            for (Case c : cases) {
              HttpResponse<Buffer> response = c.answer().result();
              assertEquals(c.status(), response.statusCode(), c.name());
              assertTrue(response.getHeader("Content-Type").startsWith("application/json"), c.name());
              JsonObject body = response.bodyAsJsonObject();
              assertEquals(false, body.getBoolean("ok"), c.name());
              assertEquals(c.error(), body.getString("error"), c.name());
              assertFalse(body.getString("message").isBlank(), c.name());
              assertFalse(response.bodyAsString().contains(TestRelay.SECRET), c.name());
            }
            assertEquals("POST", cases.get(9).answer().result().getHeader("Allow"));
          });
          // A valid webhook after all the refusals: it is served, and it is the only thing that reaches Bitrix24.
          return relay.postJson(Resources.text("seed-example.json"));
        })
        .compose(ok -> {
          ctx.verify(() -> assertEquals(200, ok.statusCode()));
          return relay.poll(() -> portal.leads().isEmpty() ? null : portal.leads());
        })
        // The log writer is asynchronous: the lead may reach the portal before webhook.log has its line.
        .compose(leads -> relay.awaitLines("webhook", lines -> !lines.isEmpty()))
        .compose(webhooks -> relay.awaitLines("error", lines -> lines.size() >= cases.size()))
        .onComplete(ctx.succeeding(errors -> ctx.verify(() -> {
          assertEquals(1, portal.calls().size(), "only the valid webhook reached the portal");
          assertEquals(1, relay.lines("webhook").size(), "only the valid webhook was accepted");
          assertEquals(cases.size(), errors.size());
          for (JsonObject line : errors) {
            assertEquals("http", line.getString("stage"));
            assertEquals("127.0.0.1", line.getString("remoteAddress"));
            assertFalse(line.getString("reason").isBlank());
            assertTrue(line.containsKey("httpStatus"));
          }
          assertTrue(errors.stream().anyMatch(l -> "wrong_secret".equals(l.getString("error"))
              && "default".equals(l.getString("integration"))));
          assertFalse(relay.allFileContents().contains(TestRelay.SECRET), "the webhook secret never reaches a file");
          ctx.completeNow();
        })));
  }

  @Test
  void aChunkedBodyOverTheLimitIsCutOffWith413(Vertx vertx, VertxTestContext ctx) {
    HttpClient client = vertx.createHttpClient();
    client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(relay.port())
            .setURI(PATH).putHeader("Content-Type", "application/json"))
        .compose(request -> {
          request.setChunked(true);
          Future<HttpClientResponse> response = request.response();
          request.write("{\"a\":\"");
          for (int i = 0; i < 20; i++) {
            request.write("x".repeat(8 * 1024));
          }
          request.end("\"}");
          return response;
        })
        .compose(response -> response.body().map(body -> {
          ctx.verify(() -> {
            assertEquals(413, response.statusCode());
            assertEquals("body_too_large", new JsonObject(body).getString("error"));
          });
          return response;
        }))
        .compose(r -> relay.postJson("{\"name\":\"after\"}"))
        .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
          assertEquals(200, after.statusCode(), "the relay still serves after cutting a client off");
          ctx.completeNow();
        })));
  }
}
