package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.RedirectHosts;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(VertxExtension.class)
@Timeout(value = 5, timeUnit = TimeUnit.SECONDS)
class BitrixClientTest {

  private static final int REQUEST_TIMEOUT_MS = 800;

  private FakeBitrixPortal portal;
  private PortalConfig config;
  private BitrixClient client;

  @BeforeEach
  void startPortal(Vertx vertx, VertxTestContext ctx) {
    client = new BitrixClient(vertx, new BitrixHttpConfig(300, REQUEST_TIMEOUT_MS, 2));
    FakeBitrixPortal.start(vertx).onComplete(ctx.succeeding(started -> {
      portal = started;
      config = PortalConfig.parse("test", portal.webhookUrl());
      ctx.completeNow();
    }));
  }

  @AfterEach
  void closeClient() {
    client.close();
  }

  private static JsonObject leadBody(String originId) {
    return new JsonObject()
        .put("fields", new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", "Anton")
            .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "79999999999").put("VALUE_TYPE", "WORK")))
            .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", originId))
        .put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"));
  }

  /** The classified error of a call expected to fail, after checking no text in it reveals the webhook code. */
  private Future<BitrixError> failureOf(Future<?> call) {
    return call.transform(ar -> {
      if (ar.succeeded()) {
        return Future.failedFuture(new AssertionError("expected a failure, got " + ar.result()));
      }
      if (!(ar.cause() instanceof BitrixException failure)) {
        return Future.failedFuture(new AssertionError("expected a BitrixException", ar.cause()));
      }
      BitrixError error = failure.error();
      for (String text : new String[] {failure.getMessage(), error.description(), error.code(), error.reason()}) {
        if (text != null && text.contains(portal.code())) {
          return Future.failedFuture(new AssertionError("the webhook code leaked into an error text"));
        }
      }
      return Future.succeededFuture(error);
    });
  }

  @Test
  void createsALeadAndYieldsItsId(VertxTestContext ctx) {
    client.addLead(config, leadBody("d-1")).onComplete(ctx.succeeding(id -> ctx.verify(() -> {
      assertEquals(portal.leadIds().get(0), id);
      assertEquals(1, portal.leads().size());
      assertEquals("Anton", portal.leads().get(0).getString("NAME"));
      assertEquals("79999999999", portal.leads().get(0).getJsonArray("PHONE").getJsonObject(0).getString("VALUE"));
      FakeBitrixPortal.Call call = portal.calls().get(0);
      assertEquals("crm.lead.add", call.method());
      assertEquals("Y", call.body().getJsonObject("params").getString("REGISTER_SONET_EVENT"));
      ctx.completeNow();
    })));
  }

  @Test
  void leadIdsIncrease(VertxTestContext ctx) {
    client.addLead(config, leadBody("d-1"))
        .compose(first -> client.addLead(config, leadBody("d-2")).map(second -> second - first))
        .onComplete(ctx.succeeding(difference -> ctx.verify(() -> {
          assertTrue(difference > 0);
          ctx.completeNow();
        })));
  }

  @Test
  void aRenamedPortalIsFollowedWithTheSameBodyAndRemembered(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx, 0, portal.code()).onComplete(ctx.succeeding(renamed -> {
      portal.enqueue(Reply.redirect(renamed.webhookUrl() + "crm.lead.add.json"));
      client.addLead(config, leadBody("d-1"))
          .compose(first -> client.addLead(config, leadBody("d-2")).map(first))
          .onComplete(ctx.succeeding(id -> ctx.verify(() -> {
            assertEquals(1, portal.calls().size(), "the old address is asked once");
            assertEquals(2, renamed.leads().size(), "the POST was repeated there, and the next one went there");
            assertEquals("POST-d-1", "POST-" + renamed.leads().get(0).getString("ORIGIN_ID"));
            assertEquals(renamed.webhookUrl(), client.current(config).webhookUrl().toString());
            ctx.completeNow();
          })));
    }));
  }

  static Stream<Arguments> failingReplies() {
    return Stream.of(
        arguments(Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"), ErrorClass.REFUSED, 503),
        arguments(Reply.error(429, "OPERATION_TIME_LIMIT", "Method is blocked"), ErrorClass.REFUSED, 429),
        arguments(Reply.error(503, "OVERLOAD_LIMIT", "REST API is blocked"), ErrorClass.PORTAL_FAILURE, 503),
        arguments(Reply.error(500, "INTERNAL_SERVER_ERROR", "Internal error"), ErrorClass.AMBIGUOUS, 500),
        arguments(Reply.error(400, "", "Required fields are not filled"), ErrorClass.LEAD_REJECTED, 400),
        arguments(Reply.error(403, "ACCESS_DENIED", "REST is available only on commercial plans"),
            ErrorClass.PORTAL_FAILURE, 403),
        arguments(Reply.html(503), ErrorClass.AMBIGUOUS, 503),
        arguments(Reply.html(404), ErrorClass.PORTAL_FAILURE, 404),
        arguments(Reply.empty(500), ErrorClass.AMBIGUOUS, 500),
        arguments(Reply.empty(200), ErrorClass.AMBIGUOUS, 200),
        // A redirect to somewhere that is no webhook (a login page) cannot be followed.
        arguments(Reply.redirect("/auth/?backurl=%2Frest%2F"), ErrorClass.PORTAL_FAILURE, 302),
        arguments(Reply.dropConnection(), ErrorClass.AMBIGUOUS, null));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("failingReplies")
  void everyFailureIsClassified(Reply reply, ErrorClass expected, Integer status, VertxTestContext ctx) {
    portal.enqueue(reply);
    failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(expected, error.errorClass(), error.summary());
      assertEquals(status, error.httpStatus());
      assertTrue(portal.leads().isEmpty());
      ctx.completeNow();
    })));
  }

  @Test
  void operatingTimeLimitSaysWhenToTryAgain(VertxTestContext ctx) {
    portal.enqueue(Reply.error(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."));
    failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.REFUSED, error.errorClass());
      assertNotNull(error.retryAt());
      ctx.completeNow();
    })));
  }

  @Test
  void aPortalThatNeverAnswersTimesOutAsAmbiguous(VertxTestContext ctx) {
    portal.enqueue(Reply.hang());
    long started = System.nanoTime();
    failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
      assertEquals("no complete answer from the portal within " + REQUEST_TIMEOUT_MS + " ms", error.description());
      assertFalse(error.description().contains(portal.code()), error.description());
      assertTrue(elapsedMs >= REQUEST_TIMEOUT_MS - 50 && elapsedMs < 3000, "took " + elapsedMs + " ms");
      ctx.completeNow();
    })));
  }

  @Test
  void aLeadCreatedBeforeTheConnectionDroppedIsAmbiguousAndExists(VertxTestContext ctx) {
    portal.enqueue(Reply.createThenDrop());
    failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
      assertEquals(1, portal.leads().size());
      assertEquals("d-1", portal.leads().get(0).getString("ORIGIN_ID"));
      ctx.completeNow();
    })));
  }

  @Test
  void invalidFieldsAreRejected(VertxTestContext ctx) {
    JsonObject body = new JsonObject().put("fields", "TITLE=x");
    failureOf(client.addLead(config, body)).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.LEAD_REJECTED, error.errorClass());
      assertEquals("", error.code());
      assertTrue(error.description().contains("fields"), error.description());
      ctx.completeNow();
    })));
  }

  @Test
  void aWrongWebhookCodeIsAPortalFailure(VertxTestContext ctx) {
    PortalConfig wrong = PortalConfig.parse("test", portal.webhookUrl().replace(portal.code(), "wrongcode123"));
    failureOf(client.addLead(wrong, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
      assertEquals(401, error.httpStatus());
      assertEquals("NO_AUTH_FOUND", error.code());
      assertTrue(portal.leads().isEmpty());
      ctx.completeNow();
    })));
  }

  @Test
  void anUnknownMethodIsAPortalFailure(VertxTestContext ctx) {
    failureOf(client.call(config, "crm.lead.nonsense", new JsonObject()))
        .onComplete(ctx.succeeding(error -> ctx.verify(() -> {
          assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
          assertEquals("ERROR_METHOD_NOT_FOUND", error.code());
          ctx.completeNow();
        })));
  }

  @Test
  void aPortalThatIsDownRefusesAndNothingWasSent(VertxTestContext ctx) throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    PortalConfig down = PortalConfig.parse("test", "http://127.0.0.1:" + closedPort + "/rest/1/" + portal.code() + "/");
    failureOf(client.addLead(down, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.REFUSED, error.errorClass());
      assertTrue(error.description().startsWith("could not connect to the portal"), error.description());
      ctx.completeNow();
    })));
  }

  @Test
  void listFindsTheLeadOfADelivery(VertxTestContext ctx) {
    JsonObject byDelivery = new JsonObject().put("filter",
        new JsonObject().put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-2"));
    JsonObject byDeliveries = new JsonObject().put("filter",
        new JsonObject().put("ORIGINATOR_ID", "leadrelay").put("@ORIGIN_ID", new JsonArray().add("d-1").add("d-3")));
    client.addLead(config, leadBody("d-1"))
        .compose(first -> client.addLead(config, leadBody("d-2")))
        .compose(second -> client.call(config, "crm.lead.list", byDelivery)
            .compose(one -> client.call(config, "crm.lead.list", byDeliveries).map(many -> {
              ctx.verify(() -> {
                assertEquals(1, one.getInteger("total"));
                assertEquals(String.valueOf(second), one.getJsonArray("result").getJsonObject(0).getString("ID"));
                assertEquals(1, many.getInteger("total"));
                assertEquals("d-1", many.getJsonArray("result").getJsonObject(0).getString("ORIGIN_ID"));
              });
              return many;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  // --- bounded calls: one deadline for the whole answer, a cap on its size ---

  static Stream<Reply> answersThatNeverEnd() {
    return Stream.of(Reply.createThenStall(), Reply.createThenTrickle());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("answersThatNeverEnd")
  void anAnswerThatStartsButNeverEndsIsCutOffAtTheDeadlineAsAmbiguous(Reply reply, VertxTestContext ctx) {
    portal.enqueue(reply);
    long started = System.nanoTime();
    failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertEquals(ErrorClass.AMBIGUOUS, error.errorClass(), "the lead exists: it must be looked up");
      assertEquals(1, portal.leads().size());
      assertTrue(elapsedMs >= REQUEST_TIMEOUT_MS - 50 && elapsedMs < 3000, "took " + elapsedMs + " ms");
      ctx.completeNow();
    })));
  }

  @Test
  void aHugeAnswerIsRefusedWhileItStreamsAndTheConnectionClosed(Vertx vertx, VertxTestContext ctx) {
    int cap = 256 * 1024;
    BitrixClient capped = new BitrixClient(vertx, new BitrixHttpConfig(300, 5_000, 2, cap, RedirectHosts.NONE));
    portal.enqueue(Reply.createThenHuge());
    failureOf(capped.addLead(config, leadBody("d-1")))
        .compose(error -> capped.addLead(config, leadBody("d-2")).map(error))
        .onComplete(ctx.succeeding(error -> ctx.verify(() -> {
          capped.close();
          assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
          assertEquals("the portal's answer is larger than the 262144-byte cap (BITRIX_MAX_ANSWER_BYTES)",
              error.description());
          // Cut off near the cap, not read to the end: what was sent beyond it sat in socket buffers.
          assertTrue(portal.hugeBytesSent() < 64L * 1024 * 1024, "sent " + portal.hugeBytesSent());
          assertEquals(2, portal.leads().size(), "and the next call works");
          ctx.completeNow();
        })));
  }

  // --- redirects: no downgrade, only to trusted hosts ---

  @Test
  void aRedirectToAnotherHostIsRefusedAndNothingIsSentThere(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx, "127.0.0.2", 0, portal.code()).onComplete(ctx.succeeding(other -> {
      portal.enqueue(Reply.redirect(other.webhookUrl() + "crm.lead.add.json"));
      failureOf(client.addLead(config, leadBody("d-1"))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
        assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
        assertEquals(302, error.httpStatus());
        assertTrue(error.description().contains("http://127.0.0.2")
            && error.description().contains("BITRIX_REDIRECT_HOSTS=127.0.0.2"), error.description());
        assertTrue(other.calls().isEmpty(), "nothing went to the other host");
        assertEquals(config.webhookUrl(), client.current(config).webhookUrl(), "not remembered");
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void aRedirectToAnAllowedHostIsFollowedAndRemembered(Vertx vertx, VertxTestContext ctx) {
    BitrixClient allowing = new BitrixClient(vertx, new BitrixHttpConfig(300, REQUEST_TIMEOUT_MS, 2,
        BitrixHttpConfig.DEFAULT_MAX_ANSWER_BYTES, RedirectHosts.parse("test", List.of("127.0.0.2"))));
    FakeBitrixPortal.start(vertx, "127.0.0.2", 0, portal.code()).onComplete(ctx.succeeding(other -> {
      portal.enqueue(Reply.redirect(other.webhookUrl() + "crm.lead.add.json"));
      allowing.addLead(config, leadBody("d-1")).onComplete(ctx.succeeding(id -> ctx.verify(() -> {
        allowing.close();
        assertEquals(1, other.leads().size());
        assertEquals(other.webhookUrl(), allowing.current(config).webhookUrl().toString());
        ctx.completeNow();
      })));
    }));
  }
}
