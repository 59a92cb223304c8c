package io.leadrelay.e2e;

import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.testing.FakeBitrixPortal;
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

import java.net.URI;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A relay whose portal is called by an OAuth application: a dead refresh token pauses the portal without losing the
 * lead, and a new pair sent through the admin API brings it back.
 */
@ExtendWith(VertxExtension.class)
class OAuthPortalTest {

  private static final String CLIENT_SECRET = "client-secret-0123456789";

  @TempDir
  Path dir;

  private static PortalConfig portalOf(FakeBitrixPortal portal) {
    return PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), "local.test", CLIENT_SECRET,
        "access-0", "refresh-0", URI.create(portal.refreshUrl())));
  }

  private static Future<HttpResponse<Buffer>> postTokens(TestRelay relay, String integration, JsonObject body) {
    return relay.client().post(relay.port(), "127.0.0.1", "/admin/portals/" + integration + "/tokens")
        .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN)
        .sendJsonObject(body);
  }

  private static Future<JsonObject> health(TestRelay relay, String wantedState) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send().map(response -> {
      JsonObject health = response.bodyAsJsonObject();
      JsonObject portal = health.getJsonObject("parts").getJsonObject("bitrix").getJsonObject("portals")
          .getJsonObject("default");
      return wantedState.equals(portal.getString("state")) ? health : null;
    });
  }

  @Test
  void aDeadRefreshTokenPausesThePortalUntilANewPairArrives(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(started -> {
      FakeBitrixPortal portal = started.oauth("local.test", CLIENT_SECRET, "access-0", "refresh-0");
      portal.expireAccessToken();
      portal.refuseRefresh("invalid_grant");
      return TestRelay.startWith(vertx, dir, portalOf(portal)).compose(relay -> relay
          .postJson("{\"name\":\"Ivan\",\"phone\":\"+79990000001\"}")
          .compose(accepted -> {
            String id = accepted.bodyAsJsonObject().getString("id");
            return relay.pollAsync(() -> health(relay, "paused"))
                .compose(health -> {
                  ctx.verify(() -> {
                    assertEquals("DEGRADED", health.getString("status"));
                    String reason = health.getJsonObject("parts").getJsonObject("bitrix").getJsonObject("portals")
                        .getJsonObject("default").getString("reason");
                    assertTrue(reason.contains("invalid_grant"), reason);
                    assertTrue(reason.endsWith("The full answer and what to do are in error.log."), reason);
                    assertTrue(portal.leads().isEmpty());
                  });
                  // error.log is written asynchronously: the line may land just after /health changed.
                  return relay.awaitLines("error", lines -> lines.stream().anyMatch(line -> String.valueOf(line.getString("reason"))
                      .contains("POST /admin/portals/default/tokens")));
                })
                .compose(fixTold -> relay.relay().store().find(id))
                .compose(stored -> {
                  ctx.verify(() -> assertEquals(DeliveryState.PENDING, stored.orElseThrow().state(),
                      "the lead waits for the portal"));
                  FakeBitrixPortal.Tokens fresh = portal.reauthorise();
                  return postTokens(relay, "default", new JsonObject().put("accessToken", fresh.accessToken())
                      .put("refreshToken", fresh.refreshToken()).put("expiresIn", 3600));
                })
                .compose(saved -> {
                  ctx.verify(() -> {
                    assertEquals(200, saved.statusCode(), saved.bodyAsString());
                    assertTrue(saved.bodyAsJsonObject().getString("message").contains("probe"));
                  });
                  return relay.pollAsync(() -> health(relay, "active"));
                })
                .compose(up -> relay.poll(() -> portal.leads().size() == 1 ? portal.leads() : null))
                .map(leads -> {
                  ctx.verify(() -> {
                    assertEquals(id, leads.get(0).getString("ORIGIN_ID"));
                    String logs = relay.allFileContents();
                    assertFalse(logs.contains(CLIENT_SECRET), "the client secret is never logged");
                    assertFalse(logs.contains(portal.tokens().accessToken()), "tokens are never logged");
                    assertFalse(logs.contains(portal.tokens().refreshToken()), "tokens are never logged");
                  });
                  return null;
                });
          }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anExpiredTokenIsRefreshedOnceAndTheLeadsGoThrough(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(started -> {
      FakeBitrixPortal portal = started.oauth("local.test", CLIENT_SECRET, "access-0", "refresh-0");
      portal.expireAccessToken();
      return TestRelay.startWith(vertx, dir, portalOf(portal)).compose(relay -> Future.all(
              relay.postJson("{\"name\":\"A\",\"phone\":\"+79990000001\"}"),
              relay.postJson("{\"name\":\"B\",\"phone\":\"+79990000002\"}"),
              relay.postJson("{\"name\":\"C\",\"phone\":\"+79990000003\"}"))
          .compose(all -> relay.poll(() -> portal.leads().size() >= 3 ? portal.leads() : null))
          .compose(leads -> relay.relay().store().loadTokens(portal.portalUrl()))
          .map(saved -> {
            ctx.verify(() -> {
              assertEquals(1, portal.refreshes());
              assertEquals(3, portal.leads().size());
              assertEquals(portal.tokens().refreshToken(), saved.orElseThrow().refreshToken());
            });
            return null;
          }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void theTokensCallRefusesWhatItCannotUse(Vertx vertx, VertxTestContext ctx) {
    // A webhook-mode relay: its integration takes no tokens.
    FakeBitrixPortal.start(vertx).compose(portal -> TestRelay.start(vertx, dir, portal.webhookUrl()))
        .compose(relay -> postTokens(relay, "default", new JsonObject().put("refreshToken", "r"))
            .compose(webhook -> {
              ctx.verify(() -> {
                assertEquals(400, webhook.statusCode());
                assertTrue(webhook.bodyAsJsonObject().getString("message").contains("webhook"));
              });
              return postTokens(relay, "nope", new JsonObject().put("refreshToken", "r"));
            })
            .compose(unknown -> {
              ctx.verify(() -> assertEquals(404, unknown.statusCode()));
              return relay.client().post(relay.port(), "127.0.0.1", "/admin/portals/default/tokens")
                  .sendJsonObject(new JsonObject().put("refreshToken", "r"));
            })
            .map(unauthorised -> {
              ctx.verify(() -> assertEquals(401, unauthorised.statusCode()));
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void theTokensCallNeedsARefreshToken(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(started -> {
      FakeBitrixPortal portal = started.oauth("local.test", CLIENT_SECRET, "access-0", "refresh-0");
      return TestRelay.startWith(vertx, dir, portalOf(portal))
          .compose(relay -> postTokens(relay, "default", new JsonObject().put("accessToken", "a"))
              .compose(missing -> {
                ctx.verify(() -> {
                  assertEquals(400, missing.statusCode());
                  assertTrue(missing.bodyAsJsonObject().getString("message").startsWith("refreshToken is missing"));
                });
                return relay.relay().store().loadTokens(portal.portalUrl());
              })
              .map(stored -> {
                ctx.verify(() -> assertEquals("refresh-0", stored.orElseThrow().refreshToken(),
                    "the configured pair seeded the store at start and was not replaced"));
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
