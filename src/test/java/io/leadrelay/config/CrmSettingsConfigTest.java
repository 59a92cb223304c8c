package io.leadrelay.config;

import io.leadrelay.mapping.PhoneNormaliser;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PHONE_REGION and CRM_TARGET for the default integration; phoneRegion, phoneFormat and target in the file. */
class CrmSettingsConfigTest {

  @Test
  void leadsInRussianE164ByDefault() {
    IntegrationConfig integration = ConfigParser.parse(new JsonObject()).integrations().get("default");
    assertEquals(CrmTarget.LEAD, integration.target());
    assertEquals("RU", integration.mapping().phoneRegion());
    assertEquals(PhoneNormaliser.Format.E164, integration.mapping().phoneFormat());
  }

  @Test
  void theEnvironmentSetsTheDefaultIntegration() {
    IntegrationConfig integration = ConfigParser.parse(new JsonObject().put("PHONE_REGION", "kz")
        .put("CRM_TARGET", "Deal")).integrations().get("default");
    assertEquals(CrmTarget.DEAL, integration.target());
    assertEquals("KZ", integration.mapping().phoneRegion());
  }

  @Test
  void eachIntegrationHasItsOwn() {
    JsonObject json = new JsonObject().put("integrations", new JsonObject()
        .put("shop", new JsonObject().put("target", "deal")
            .put("mapping", new JsonObject().put("phoneRegion", "BY").put("phoneFormat", "original")))
        .put("school", new JsonObject()));
    RelayConfig config = ConfigParser.parse(json);
    assertEquals(CrmTarget.DEAL, config.integrations().get("shop").target());
    assertEquals("BY", config.integrations().get("shop").mapping().phoneRegion());
    assertEquals(PhoneNormaliser.Format.ORIGINAL, config.integrations().get("shop").mapping().phoneFormat());
    assertEquals(CrmTarget.LEAD, config.integrations().get("school").target());
  }

  @Test
  void wrongValuesStopStartUpNamingTheVariable() {
    assertEquals("CRM_TARGET must be lead or deal, got 'contact'.", assertThrows(ConfigException.class,
        () -> ConfigParser.parse(new JsonObject().put("CRM_TARGET", "contact"))).getMessage());
    String region = assertThrows(ConfigException.class,
        () -> ConfigParser.parse(new JsonObject().put("PHONE_REGION", "Russia"))).getMessage();
    assertEquals("integrations.default.mapping.phoneRegion must be a two-letter country code such as RU, KZ or BY,"
        + " got \"Russia\".", region);
  }
}
