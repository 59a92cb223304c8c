package io.leadrelay.e2e;

import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.mapping.MappingConfig;
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

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What /health tells about portals: a stuck queue, errors without the lead's data, the portal's mode. */
@ExtendWith(VertxExtension.class)
class HealthTest {

  /** Text a portal's error can quote from the lead: it must never reach the unauthenticated /health. */
  private static final String SUBSCRIBER_DATA = "Иван Петров ivan@mail";

  @TempDir
  Path dir;

  @Test
  void aQueueWithLeadsWaitingAndNoneDeliveredIsDegradedUntilOneGetsThrough(Vertx vertx, VertxTestContext ctx) {
    DeliveryConfig fast = TestRelay.FAST;
    DeliveryConfig stallAfterASecond = new DeliveryConfig(fast.storeSynchronous(), fast.retryBase(), fast.retryMax(),
        fast.maxAge(), fast.repeatWindow(), fast.lease(), fast.sweepInterval(), fast.sweepBatch(),
        fast.retentionDays(), Duration.ofSeconds(1));
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // Every add fails "ambiguously" (an empty 500): the portal is never paused, nothing gets through.
      portal.faults(() -> Reply.empty(500));
      return TestRelay.start(vertx, dir, portal.webhookUrl(), MappingConfig.defaults(), TestRelay.http(),
              stallAfterASecond)
          .compose(relay -> relay.postJson("{\"name\":\"Ivan\",\"phone\":\"+79990000001\"}")
              .compose(accepted -> relay.pollAsync(() -> health(relay, h -> "DEGRADED".equals(h.getString("status")))))
              .compose(stalled -> {
                ctx.verify(() -> {
                  JsonObject bitrix = stalled.getJsonObject("parts").getJsonObject("bitrix");
                  assertEquals("DEGRADED", bitrix.getString("status"));
                  JsonObject entry = bitrix.getJsonObject("portals").getJsonObject("default");
                  assertEquals("active", entry.getString("state"), "not paused, not held: stuck");
                  assertEquals(1, entry.getInteger("backlog"));
                  assertNotNull(entry.getString("stalledSince"), entry.encode());
                  assertTrue(entry.getString("stalled").startsWith("leads have been waiting since "), entry.encode());
                  assertEquals("AMBIGUOUS", entry.getJsonObject("lastError").getString("class"));
                });
                portal.faults(() -> null);
                return relay.pollAsync(() -> health(relay, h -> "UP".equals(h.getString("status"))));
              })
              .map(recovered -> {
                ctx.verify(() -> {
                  JsonObject entry = recovered.getJsonObject("parts").getJsonObject("bitrix")
                      .getJsonObject("portals").getJsonObject("default");
                  assertFalse(entry.containsKey("stalledSince"), entry.encode());
                  assertEquals(1, portal.leads().size());
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aPausedPortalIsToldByErrorClassAndCodeWithoutBitrixText(Vertx vertx, VertxTestContext ctx) {
    Reply noAuth = Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data for " + SUBSCRIBER_DATA);
    healthAfter(vertx, noAuth, h -> "paused".equals(entry(h).getString("state")))
        .compose(seen -> {
          ctx.verify(() -> {
            assertFalse(seen.health().encode().contains("ivan@mail"), seen.health().encode());
            JsonObject entry = entry(seen.health());
            assertEquals("The portal cannot take leads until someone fixes its configuration (HTTP 401"
                + " NO_AUTH_FOUND). The full answer and what to do are in error.log.", entry.getString("reason"));
            JsonObject lastError = entry.getJsonObject("lastError").copy();
            assertNotNull(lastError.remove("at"));
            assertEquals(new JsonObject().put("class", "PORTAL_FAILURE").put("httpStatus", 401)
                .put("code", "NO_AUTH_FOUND"), lastError);
          });
          // The whole text stays where only the operator reads it.
          return seen.relay().awaitLines("error", lines -> lines.stream()
              .anyMatch(l -> l.encode().contains(SUBSCRIBER_DATA)));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aRejectedLeadLeavesNoTraceOfItsDataInHealth(Vertx vertx, VertxTestContext ctx) {
    Reply rejected = Reply.error(400, "", "Неверный формат e-mail: " + SUBSCRIBER_DATA);
    healthAfter(vertx, rejected, h -> entry(h).getValue("lastError") != null)
        .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
          assertFalse(seen.health().encode().contains("ivan@mail"), seen.health().encode());
          assertNull(entry(seen.health()).getJsonObject("lastError").getValue("description"));
          ctx.completeNow();
        })));
  }

  private record Seen(TestRelay relay, JsonObject health) {
  }

  /** A relay whose portal answers the first lead with {@code reply}; /health once it is {@code wanted}. */
  private Future<Seen> healthAfter(Vertx vertx, Reply reply, Predicate<JsonObject> wanted) {
    return FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.enqueue(reply);
      return TestRelay.start(vertx, dir, portal.webhookUrl());
    }).compose(relay -> relay.postJson("{\"name\":\"Ivan\",\"email\":\"ivan@mail\"}")
        .compose(accepted -> relay.pollAsync(() -> health(relay, wanted)))
        .map(health -> new Seen(relay, health)));
  }

  @Test
  void anOAuthPortalIsShownInOAuthMode(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(started -> {
      FakeBitrixPortal portal = started.oauth("local.test", "client-secret-0123456789", "access-0", "refresh-0");
      PortalConfig config = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), "local.test",
          "client-secret-0123456789", "access-0", "refresh-0", URI.create(portal.refreshUrl())));
      return TestRelay.startWith(vertx, dir, config)
          .compose(relay -> health(relay, h -> true))
          .map(health -> {
            ctx.verify(() -> assertEquals("oauth", entry(health).getString("mode"), health.encode()));
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anOAuthPortalWithoutAnyTokensIsWarnedAboutAtStart(Vertx vertx, VertxTestContext ctx) {
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
        .getLogger("io.leadrelay.bitrix");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    log.addAppender(logged);
    FakeBitrixPortal.start(vertx).compose(started -> {
      FakeBitrixPortal portal = started.oauth("local.test", "client-secret-0123456789", "access-0", "refresh-0");
      PortalConfig noTokens = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), "local.test",
          "client-secret-0123456789", null, null, URI.create(portal.refreshUrl())));
      return TestRelay.startWith(vertx, dir, noTokens).compose(relay -> relay.poll(() -> logged.list.stream()
          .map(e -> e.getFormattedMessage()).filter(m -> m.contains("no tokens")).findFirst().orElse(null)));
    }).eventually(() -> {
      log.detachAppender(logged);
      return Future.succeededFuture();
    }).onComplete(ctx.succeeding(warning -> ctx.verify(() -> {
      assertTrue(warning.startsWith("Integration default: the OAuth portal "), warning);
      assertTrue(warning.endsWith(" has no tokens yet (none configured, none stored); its leads wait until a pair"
          + " arrives through POST /admin/portals/default/tokens, or set BITRIX_ACCESS_TOKEN and"
          + " BITRIX_REFRESH_TOKEN"), warning);
      ctx.completeNow();
    })));
  }

  private static JsonObject entry(JsonObject health) {
    return health.getJsonObject("parts").getJsonObject("bitrix").getJsonObject("portals").getJsonObject("default");
  }

  /** The /health answer if it matches, else null (to poll again). */
  private static Future<JsonObject> health(TestRelay relay, Predicate<JsonObject> wanted) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send()
        .map(response -> wanted.test(response.bodyAsJsonObject()) ? response.bodyAsJsonObject() : null);
  }
}
