package io.leadrelay.config;

import io.leadrelay.store.TokenPair;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An integration's portal as an OAuth application instead of a webhook: parsing, validation, masking. */
class OAuthConfigTest {

  private static final String SECRET = "client-secret-0123456789";

  private static JsonObject withPortal(JsonObject portal) {
    return new JsonObject().put("integrations", new JsonObject()
        .put("shop", new JsonObject().put("portal", portal)));
  }

  private static JsonObject oauth() {
    return new JsonObject().put("portalUrl", "https://shop.bitrix24.ru/").put("clientId", "local.abc123")
        .put("clientSecret", SECRET).put("accessToken", "access-1").put("refreshToken", "refresh-1");
  }

  private static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(json)).getMessage();
  }

  @Test
  void anOAuthPortalCallsRestWithoutSecretsInItsUrl() {
    PortalConfig portal = ConfigParser.parse(withPortal(new JsonObject().put("oauth", oauth())))
        .integrations().get("shop").portal().orElseThrow();

    OAuthApp app = portal.oauth();
    assertEquals("https://shop.bitrix24.ru", app.portalKey());
    assertEquals("local.abc123", app.clientId());
    assertEquals("access-1", app.accessToken());
    assertEquals("refresh-1", app.refreshToken());
    assertEquals(OAuthApp.DEFAULT_REFRESH_URL, app.refreshUrl().toString());
    assertEquals("https://shop.bitrix24.ru/rest/crm.lead.add.json", portal.methodUrl("crm.lead.add"));
    assertEquals("https://shop.bitrix24.ru", portal.masked());
    assertEquals("", portal.secretCode());
    assertFalse(portal.insecure());
    for (String text : new String[] {portal.toString(), app.toString()}) {
      assertFalse(text.contains(SECRET) || text.contains("access-1") || text.contains("refresh-1"), text);
    }
  }

  @Test
  void theDefaultIntegrationTakesItsApplicationFromTheEnvironment() {
    JsonObject env = new JsonObject().put("BITRIX_PORTAL_URL", "http://127.0.0.1:8099")
        .put("BITRIX_CLIENT_ID", "local.env").put("BITRIX_CLIENT_SECRET", SECRET)
        .put("BITRIX_REFRESH_TOKEN", "refresh-env").put("BITRIX_OAUTH_URL", "http://127.0.0.1:8099/oauth/token/");

    PortalConfig portal = ConfigParser.parse(env).integrations().get("default").portal().orElseThrow();

    assertEquals("http://127.0.0.1:8099/rest/", portal.webhookUrl().toString());
    assertNull(portal.oauth().accessToken(), "the access token is optional: the first refresh makes one");
    assertEquals("refresh-env", portal.oauth().refreshToken());
    assertEquals("http://127.0.0.1:8099/oauth/token/", portal.oauth().refreshUrl().toString());
    assertTrue(portal.insecure(), "plain http is allowed, with the start-up warning");
  }

  @Test
  void aWebhookAndAnApplicationTogetherAreOneClearError() {
    JsonObject env = new JsonObject().put("BITRIX_WEBHOOK_URL", "https://portal.example/rest/1/abcdef0123456789/")
        .put("BITRIX_PORTAL_URL", "https://x.bitrix24.ru").put("BITRIX_CLIENT_ID", "local.env")
        .put("BITRIX_CLIENT_SECRET", SECRET);

    String message = error(env);

    assertEquals("BITRIX_WEBHOOK_URL and BITRIX_PORTAL_URL are both set; a portal is reached either through a webhook"
        + " or through an OAuth application, so set only one of them.", message);
    assertFalse(message.contains("abcdef0123456789") || message.contains(SECRET));
  }

  @Test
  void badApplicationSettingsNameTheKey() {
    assertTrue(error(withPortal(new JsonObject().put("oauth", oauth().put("portalUrl", "ftp://x.bitrix24.ru"))))
        .startsWith("integrations.shop.portal.oauth.portalUrl must start with https://"));
    assertTrue(error(withPortal(new JsonObject().put("oauth", oauth().put("portalUrl", "https://x.bitrix24.ru/rest/"))))
        .startsWith("integrations.shop.portal.oauth.portalUrl must be the portal's address only"));
    assertTrue(error(withPortal(new JsonObject().put("oauth", oauth().put("refreshUrl", "https://o.example/t?x=1"))))
        .startsWith("integrations.shop.portal.oauth.refreshUrl must be a URL like"));
    JsonObject noSecret = oauth();
    noSecret.remove("clientSecret");
    assertEquals("integrations.shop.portal.oauth.clientSecret is missing; an OAuth application needs portalUrl,"
        + " clientId and clientSecret.", error(withPortal(new JsonObject().put("oauth", noSecret))));
    assertTrue(error(withPortal(new JsonObject().put("oauth", oauth().put("token", "x"))))
        .startsWith("Unknown key 'token' in integrations.shop.portal.oauth"));
  }

  @Test
  void aTokenPairNeverShowsItsTokens() {
    TokenPair pair = new TokenPair("access-xyz", "refresh-xyz", Instant.parse("2026-01-01T00:00:00Z"));

    assertEquals("TokenPair[accessToken=***, refreshToken=***, expiresAt=2026-01-01T00:00:00Z]", pair.toString());
    assertEquals("TokenPair[accessToken=none, refreshToken=***, expiresAt=null]",
        new TokenPair(null, "r", null).toString());
    assertThrows(NullPointerException.class, () -> new TokenPair("a", null, null));
  }
}
