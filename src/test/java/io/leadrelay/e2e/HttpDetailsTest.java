package io.leadrelay.e2e;

import io.leadrelay.config.HttpConfig;
import io.leadrelay.config.TrustedProxies;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP details a new user runs into: BotHelp's spelling of the content type, proxies, a bad length, HTTP/2. */
@ExtendWith(VertxExtension.class)
class HttpDetailsTest {

  private static final String PATH = "/webhook/default/" + TestRelay.SECRET;

  @TempDir
  Path dir;

  @Test
  void theContentTypeAsBotHelpsDocsPrintItIsAccepted(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir)
        .compose(relay -> relay.post(PATH, "application/ json", Buffer.buffer("{\"name\":\"Ivan\"}"))
            .compose(response -> {
              ctx.verify(() -> assertEquals(200, response.statusCode(), response.bodyAsString()));
              return relay.poll(() -> relay.portal().leads().isEmpty() ? null : relay.portal().leads());
            }))
        .onComplete(ctx.succeeding(leads -> ctx.verify(() -> {
          assertEquals("Ivan", leads.get(0).getString("NAME"));
          ctx.completeNow();
        })));
  }

  @Test
  void anUnreadableContentLengthGetsTheDocumentedJson(Vertx vertx, VertxTestContext ctx) {
    TestRelay.start(vertx, dir, null)
        .compose(relay -> raw(vertx, relay, "Content-Length: ten\r\n\r\n{}")
            .compose(notANumber -> raw(vertx, relay, "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}}")
                .map(twoValues -> java.util.List.of(notANumber, twoValues))))
        .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
          for (String answer : answers) {
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            JsonObject body = new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4));
            assertEquals(new JsonObject().put("ok", false).put("error", "bad_content_length").put("message",
                "The Content-Length header is not one whole number, so the body's end is unknown."), body);
          }
          ctx.completeNow();
        })));
  }

  @Test
  void xForwardedForNamesTheSenderOnlyWhenATrustedProxySendsIt(Vertx vertx, VertxTestContext ctx) {
    HttpConfig behindProxy = new HttpConfig("127.0.0.1", 0, 1, 64 * 1024, 5, 10,
        TrustedProxies.parse("TRUSTED_PROXIES", "127.0.0.1"));
    Future<String> trusted = TestRelay.start(vertx, dir.resolve("trusted"), null, behindProxy)
        .compose(relay -> loggedSender(relay, "6.6.6.6, 198.51.100.7"));
    Future<String> untrusted = trusted.compose(v -> TestRelay.start(vertx, dir.resolve("untrusted"), null,
            TestRelay.http()))
        .compose(relay -> loggedSender(relay, "198.51.100.7"));
    Future.all(trusted, untrusted).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      assertEquals("198.51.100.7", trusted.result(), "the address the trusted proxy saw, not the one the client"
          + " prepended");
      assertEquals("127.0.0.1", untrusted.result(), "anyone can send the header: not believed by default");
      ctx.completeNow();
    })));
  }

  @Test
  void h2cIsOffSoAnUpgradeStaysOnHttp11(Vertx vertx, VertxTestContext ctx) {
    var client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(true));
    TestRelay.start(vertx, dir, null)
        .compose(relay -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(relay.port()).setURI("/health/live")))
        .compose(request -> request.send())
        .onComplete(ctx.succeeding(response -> ctx.verify(() -> {
          assertEquals(200, response.statusCode());
          assertEquals(HttpVersion.HTTP_1_1, response.version());
          ctx.completeNow();
        })));
  }

  /** The remoteAddress webhook.log records for a webhook sent with this X-Forwarded-For. */
  private static Future<String> loggedSender(TestRelay relay, String forwardedFor) {
    return relay.client().post(relay.port(), "127.0.0.1", PATH)
        .putHeader("Content-Type", "application/json")
        .putHeader("X-Forwarded-For", forwardedFor)
        .sendBuffer(Buffer.buffer("{\"name\":\"Ivan\"}"))
        .compose(accepted -> relay.awaitLines("webhook", lines -> !lines.isEmpty()))
        .map(lines -> lines.get(0).getString("remoteAddress"));
  }

  /** Sends a webhook head with the given last headers and body over a raw socket; yields all it read until closed. */
  private static Future<String> raw(Vertx vertx, TestRelay relay, String lastHeadersAndBody) {
    Promise<String> closed = Promise.promise();
    return vertx.createNetClient().connect(relay.port(), "127.0.0.1").compose(socket -> {
      Buffer read = Buffer.buffer();
      socket.handler(read::appendBuffer);
      socket.closeHandler(v -> closed.tryComplete(read.toString(StandardCharsets.UTF_8)));
      socket.write("POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + lastHeadersAndBody);
      return closed.future();
    });
  }
}
