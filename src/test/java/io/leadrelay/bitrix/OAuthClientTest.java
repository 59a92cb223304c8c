package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.store.TokenPair;
import io.leadrelay.store.TokenStore;
import io.leadrelay.testing.FakeBitrixPortal;
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

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls to a portal through an OAuth application: the token in the body, one shared refresh, clear refusals. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 5, timeUnit = TimeUnit.SECONDS)
class OAuthClientTest {

  private static final String CLIENT_ID = "local.test";
  private static final String CLIENT_SECRET = "client-secret-0123456789";

  /** A token store in memory that notes, when each save completes, how many portal calls had used the new token. */
  private final class RecordingStore implements TokenStore {
    final Map<String, TokenPair> pairs = new ConcurrentHashMap<>();
    final List<Long> callsWithTokenBeforeSaved = new ArrayList<>();

    @Override
    public Future<Optional<TokenPair>> loadTokens(String key) {
      return Future.succeededFuture(Optional.ofNullable(pairs.get(key)));
    }

    @Override
    public Future<Void> saveTokens(String key, TokenPair tokens) {
      pairs.put(key, tokens);
      synchronized (callsWithTokenBeforeSaved) {
        callsWithTokenBeforeSaved.add(portal.calls().stream()
            .filter(call -> tokens.accessToken().equals(call.body().getString("auth"))).count());
      }
      return Future.succeededFuture();
    }
  }

  private FakeBitrixPortal portal;
  private PortalConfig config;
  private RecordingStore store;
  private BitrixClient client;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).onComplete(ctx.succeeding(started -> {
      portal = started.oauth(CLIENT_ID, CLIENT_SECRET, "access-0", "refresh-0");
      config = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), CLIENT_ID, CLIENT_SECRET,
          "access-0", "refresh-0", URI.create(portal.refreshUrl())));
      store = new RecordingStore();
      client = new BitrixClient(vertx, new BitrixHttpConfig(300, 1_500, 2), new PortalTokens(store,
          Map.of("shop", new IntegrationConfig("shop", "s3cret-0123456789", Optional.of(config),
              MappingConfig.defaults()))));
      ctx.completeNow();
    }));
  }

  @AfterEach
  void close() {
    client.close();
  }

  private static JsonObject lead(int i) {
    return new JsonObject().put("fields", new JsonObject().put("TITLE", "Lead " + i).put("ORIGIN_ID", "o-" + i)
        .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "7999000" + i).put("VALUE_TYPE", "WORK"))));
  }

  /** The classified error of a call expected to fail, after checking that no text in it shows a secret. */
  private Future<BitrixError> failureOf(Future<?> call) {
    return call.transform(ar -> {
      if (ar.succeeded() || !(ar.cause() instanceof BitrixException failure)) {
        return Future.failedFuture(new AssertionError("expected a BitrixException, got " + ar));
      }
      BitrixError error = failure.error();
      List<String> secrets = new ArrayList<>(List.of(CLIENT_SECRET, "refresh-0", "access-0"));
      store.pairs.values().forEach(pair -> secrets.add(pair.refreshToken()));
      for (String text : new String[] {failure.getMessage(), error.description(), error.reason()}) {
        for (String secret : secrets) {
          if (text != null && text.contains(secret)) {
            return Future.failedFuture(new AssertionError("a secret leaked into: " + text));
          }
        }
      }
      return Future.succeededFuture(error);
    });
  }

  @Test
  void theAccessTokenTravelsInTheBodyNeverInTheUrl(VertxTestContext ctx) {
    client.addLead(config, lead(1)).onComplete(ctx.succeeding(id -> ctx.verify(() -> {
      FakeBitrixPortal.Call call = portal.calls().get(0);
      assertEquals("/rest/crm.lead.add.json", call.path());
      assertEquals("access-0", call.body().getString("auth"));
      assertEquals(1, portal.leads().size());
      assertEquals(0, portal.refreshes());
      assertEquals("refresh-0", store.pairs.get(portal.portalUrl()).refreshToken(),
          "the configured pair seeded the empty store");
      ctx.completeNow();
    })));
  }

  @Test
  void twentyCallsWithAnExpiredTokenShareOneRefresh(VertxTestContext ctx) {
    // The first call seeds and learns the pair; then it expires under twenty concurrent calls.
    client.addLead(config, lead(0)).compose(first -> {
      portal.expireAccessToken();
      List<Future<Long>> calls = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        calls.add(client.addLead(config, lead(i)));
      }
      return Future.all(calls);
    }).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      assertEquals(1, portal.refreshes(), "exactly one refresh for twenty expired calls");
      assertEquals(21, portal.leads().size(), "every call was repeated once and created its lead");
      TokenPair saved = store.pairs.get(portal.portalUrl());
      assertEquals(portal.tokens().refreshToken(), saved.refreshToken(), "the rotated refresh token is stored");
      assertNotEquals("refresh-0", saved.refreshToken());
      assertEquals(List.of(0L, 0L), store.callsWithTokenBeforeSaved,
          "two saves (the configured pair seeding the store, then the refreshed one), each before any call used it");
      ctx.completeNow();
    })));
  }

  @Test
  void aRefusedRefreshIsAPortalFailureThatSaysWhatToDo(VertxTestContext ctx) {
    portal.expireAccessToken();
    portal.refuseRefresh("invalid_grant");
    failureOf(client.addLead(config, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
      assertEquals("invalid_grant", error.code());
      assertTrue(error.description().startsWith("the OAuth refresh token was refused (invalid_grant"),
          error.description());
      assertTrue(error.description().endsWith("re-authorise the application and send the new token pair with"
          + " POST /admin/portals/shop/tokens"), error.description());
      assertEquals(0, portal.leads().size());
      ctx.completeNow();
    })));
  }

  @Test
  void aWrongClientSecretIsAPortalFailure(Vertx vertx, VertxTestContext ctx) {
    PortalConfig wrong = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), CLIENT_ID,
        "wrong-secret-0123456789", "access-0", "refresh-0", URI.create(portal.refreshUrl())));
    BitrixClient other = new BitrixClient(vertx, new BitrixHttpConfig(300, 1_500, 2), new PortalTokens(store, Map.of()));
    portal.expireAccessToken();
    failureOf(other.addLead(wrong, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      other.close();
      assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
      assertEquals("invalid_client", error.code());
      assertFalse(error.description().contains("wrong-secret-0123456789"));
      ctx.completeNow();
    })));
  }

  @Test
  void anOAuthServerThatDoesNotAnswerIsARefusalToTryLater(Vertx vertx, VertxTestContext ctx) {
    PortalConfig unreachable = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), CLIENT_ID,
        CLIENT_SECRET, "access-0", "refresh-0",
        URI.create("http://127.0.0.1:" + FakeBitrixPortal.freePort() + "/oauth/token/")));
    portal.expireAccessToken();
    failureOf(client.addLead(unreachable, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.REFUSED, error.errorClass(), error.summary());
      assertEquals(0, portal.leads().size());
      ctx.completeNow();
    })));
  }

  @Test
  void withoutAnyTokensThePortalWaitsForTheAdminCall(Vertx vertx, VertxTestContext ctx) {
    PortalConfig bare = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), CLIENT_ID, CLIENT_SECRET,
        null, null, URI.create(portal.refreshUrl())));
    failureOf(client.addLead(bare, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
      assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
      assertEquals("no OAuth tokens yet: send them with POST /admin/portals/shop/tokens",
          error.description());
      assertTrue(portal.calls().isEmpty(), "nothing was sent");
      ctx.completeNow();
    })));
  }

  @Test
  void aRefreshTokenAloneGetsTheFirstAccessToken(VertxTestContext ctx) {
    store.pairs.put(portal.portalUrl(), new TokenPair(null, "refresh-0", null));
    portal.expireAccessToken();
    client.addLead(config, lead(1)).onComplete(ctx.succeeding(id -> ctx.verify(() -> {
      assertEquals(1, portal.refreshes());
      assertEquals(1, portal.leads().size());
      ctx.completeNow();
    })));
  }

  @Test
  void aRedirectToAnotherHostNeverReceivesTheAccessToken(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx, "127.0.0.2", 0, FakeBitrixPortal.newCode()).onComplete(ctx.succeeding(other -> {
      other.oauth(CLIENT_ID, CLIENT_SECRET, "access-0", "refresh-0");
      portal.enqueue(FakeBitrixPortal.Reply.redirect(other.portalUrl() + "/rest/crm.lead.add.json"));
      failureOf(client.addLead(config, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
        assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
        assertTrue(error.description().contains("BITRIX_REDIRECT_HOSTS=127.0.0.2"), error.description());
        assertTrue(other.calls().isEmpty(), "the token went nowhere else");
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void aRedirectingOAuthServerIsNotFollowedAndGetsNoTokenElsewhere(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx, "127.0.0.2", 0, FakeBitrixPortal.newCode()).compose(other -> {
      other.oauth(CLIENT_ID, CLIENT_SECRET, "access-0", "refresh-0");
      return vertx.createHttpServer()
          .requestHandler(request -> request.response().setStatusCode(302)
              .putHeader("Location", other.refreshUrl() + "?" + request.query()).end())
          .listen(0, "127.0.0.1")
          .map(server -> {
            PortalConfig moved = PortalConfig.forApp(new OAuthApp(URI.create(portal.portalUrl()), CLIENT_ID,
                CLIENT_SECRET, "access-0", "refresh-0",
                URI.create("http://127.0.0.1:" + server.actualPort() + "/oauth/token/")));
            portal.expireAccessToken();
            return failureOf(client.addLead(moved, lead(1))).onComplete(ctx.succeeding(error -> ctx.verify(() -> {
              assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
              assertTrue(error.description().contains("not followed") && error.description().contains(
                  "BITRIX_OAUTH_URL"), error.description());
              assertTrue(other.calls().isEmpty(), "the refresh token went nowhere else");
              ctx.completeNow();
            })));
          });
    }).onFailure(ctx::failNow);
  }
}
