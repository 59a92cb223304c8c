package io.leadrelay.cluster;

import io.leadrelay.config.ConfigParser;
import io.leadrelay.config.PortalConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PortalKeysTest {

  @Test
  void aPortalIsLeasedByItsAddressNeverByItsWebhookCode() {
    assertEquals("https://shop.bitrix24.ru",
        PortalOwnership.keyOf(PortalConfig.parse("url", "https://Shop.Bitrix24.ru/rest/1/code-1/")));
    assertEquals("http://127.0.0.1:8089",
        PortalOwnership.keyOf(PortalConfig.parse("url", "http://127.0.0.1:8089/rest/3/code-3/")));
  }

  @Test
  void integrationsSharingAPortalShareItsLeaseAndDryRunOnesHaveNone() {
    JsonObject json = new JsonObject().put("integrations", new JsonObject()
        .put("sales", new JsonObject().put("portal", new JsonObject()
            .put("webhookUrl", "https://shop.bitrix24.ru/rest/1/code-1/")))
        .put("support", new JsonObject().put("portal", new JsonObject()
            .put("webhookUrl", "https://shop.bitrix24.ru/rest/7/code-7/")))
        .put("school", new JsonObject().put("portal", new JsonObject().put("oauth", new JsonObject()
            .put("portalUrl", "https://school.bitrix24.ru").put("clientId", "local.1").put("clientSecret", "x"))))
        .put("trial", new JsonObject()));
    assertEquals(List.of("https://school.bitrix24.ru", "https://shop.bitrix24.ru"),
        PortalOwnership.keysOf(ConfigParser.parse(json).integrations().values()));
  }
}
