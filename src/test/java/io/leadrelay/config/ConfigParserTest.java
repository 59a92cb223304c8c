package io.leadrelay.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigParserTest {

  private static final String URL = "https://portal.example/rest/1/abcdef0123456789/";

  private static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(json)).getMessage();
  }

  @Test
  void emptyConfigurationGivesDocumentedDefaultsAndADryRunDefaultIntegration() {
    RelayConfig config = ConfigParser.parse(new JsonObject());
    assertEquals("0.0.0.0", config.http().host());
    assertEquals(8080, config.http().port());
    assertEquals(Runtime.getRuntime().availableProcessors(), config.http().instances());
    assertEquals(65536, config.http().bodyLimitBytes());
    assertEquals(Path.of("./data"), config.dataDir());
    assertEquals(Path.of("./logs"), config.logs().dir());
    assertEquals(30, config.logs().maxDays());
    IntegrationConfig integration = config.integrations().get("default");
    assertTrue(integration.dryRun());
    assertNull(integration.secret(), "no secret configured: one is generated at start-up");
    assertEquals("Новый лид из BotHelp", integration.mapping().titleTemplate());
  }

  @Test
  void environmentVariablesOverrideTheFile() {
    JsonObject json = new JsonObject()
        .put("http", new JsonObject().put("port", 9000))
        .put("HTTP_PORT", "8181")
        .put("HTTP_HOST", "127.0.0.1")
        .put("HTTP_INSTANCES", "3")
        .put("BOTHELP_SECRET", "s3cret-s3cret-s3cret")
        .put("BITRIX_WEBHOOK_URL", URL)
        .put("BITRIX_ASSIGNED_BY_ID", "7")
        .put("BITRIX_SOURCE_ID", "CALL")
        .put("LEAD_TITLE", "Лид {name}")
        .put("DATA_DIR", "/var/lib/leadrelay")
        .put("LOG_DIR", "/var/log/leadrelay");
    RelayConfig config = ConfigParser.parse(json);
    assertEquals(8181, config.http().port());
    assertEquals("127.0.0.1", config.http().host());
    assertEquals(3, config.http().instances());
    assertEquals(Path.of("/var/lib/leadrelay"), config.dataDir());
    assertEquals(Path.of("/var/log/leadrelay"), config.logs().dir());
    IntegrationConfig integration = config.integrations().get("default");
    assertEquals("s3cret-s3cret-s3cret", integration.secret());
    assertEquals(URL + "crm.lead.add.json", integration.portal().orElseThrow().methodUrl("crm.lead.add"));
    assertEquals(7, integration.mapping().assignedById());
    assertEquals("CALL", integration.mapping().sourceId());
    assertEquals("Лид {name}", integration.mapping().titleTemplate());
  }

  @Test
  void blankEnvironmentVariablesAreIgnored() {
    RelayConfig config = ConfigParser.parse(new JsonObject().put("HTTP_PORT", "").put("BITRIX_WEBHOOK_URL", " "));
    assertEquals(8080, config.http().port());
    assertTrue(config.integrations().get("default").dryRun());
  }

  @Test
  void severalIntegrationsEachWithSecretPortalAndMapping() {
    JsonObject json = new JsonObject().put("integrations", new JsonObject()
        .put("sales", new JsonObject().put("secret", "sales-secret-0123456789")
            .put("portal", new JsonObject().put("webhookUrl", URL))
            .put("mapping", new JsonObject().put("assignedById", 12)))
        .put("support", new JsonObject().put("secret", "support-secret-0123456789")));
    RelayConfig config = ConfigParser.parse(json);
    assertEquals(2, config.integrations().size());
    assertEquals(12, config.integrations().get("sales").mapping().assignedById());
    assertFalse(config.integrations().get("sales").dryRun());
    assertTrue(config.integrations().get("support").dryRun());
  }

  @Test
  void badValuesStopStartUpWithOneSentenceNamingTheKey() {
    assertEquals("HTTP_PORT must be a whole number from 0 to 65535, got \"eighty\".",
        error(new JsonObject().put("HTTP_PORT", "eighty")));
    // From the file: the key, and the variable that sets it too (users of the variables never saw the key).
    assertEquals("http.port (HTTP_PORT) must be a whole number from 0 to 65535, got 70000.",
        error(new JsonObject().put("http", new JsonObject().put("port", 70000))));
    assertTrue(error(new JsonObject().put("integrations", new JsonObject().put("default", new JsonObject()
            .put("portal", new JsonObject().put("webhookUrl", "ftp://x/rest/1/c/")))))
        .startsWith("integrations.default.portal.webhookUrl (BITRIX_WEBHOOK_URL) must start with https://"));
    // Another integration's keys have no variable.
    assertEquals("integrations.shop.secret must be 16 to 256 letters, digits, '-', '_', '.' or '~' (it is part of"
        + " the webhook URL).", error(new JsonObject().put("integrations", new JsonObject()
        .put("shop", new JsonObject().put("secret", "short")))));
    assertEquals("BITRIX_ASSIGNED_BY_ID must be a whole number from 1 to 2147483647, got \"boss\".",
        error(new JsonObject().put("BITRIX_ASSIGNED_BY_ID", "boss")));
    assertTrue(error(new JsonObject().put("htpp", new JsonObject())).startsWith("Unknown key 'htpp'"));
    assertTrue(error(new JsonObject().put("BOTHELP_SECRET", "short")).startsWith("BOTHELP_SECRET must be"));
    assertTrue(error(new JsonObject().put("LOG_MAX_FILE_SIZE", "huge")).startsWith("LOG_MAX_FILE_SIZE must be a size"));
    assertTrue(error(new JsonObject().put("integrations", new JsonObject().put("Bad Name", new JsonObject())))
        .startsWith("Integration name 'Bad Name'"));
  }

  @Test
  void aWrongValueInTheFileIsReportedEvenWhenAVariableOverridesIt() {
    JsonObject json = new JsonObject()
        .put("http", new JsonObject().put("port", "eighty"))
        .put("delivery", new JsonObject().put("stallSeconds", 600))
        .put("HTTP_PORT", "8181");
    assertEquals("The configuration file has a value that an environment variable overrides, but it is wrong all the"
        + " same (fix or remove it): http.port (HTTP_PORT) must be a whole number from 0 to 65535, got \"eighty\".",
        error(json));

    json.getJsonObject("http").put("port", 9000);
    assertEquals(8181, ConfigParser.parse(json).http().port(), "a valid file value is simply overridden");
  }

  @Test
  void healthStallThresholdAndTrustedProxiesHaveVariables() {
    RelayConfig defaults = ConfigParser.parse(new JsonObject());
    assertEquals(java.time.Duration.ofMinutes(5), defaults.delivery().stallAfter());
    assertTrue(defaults.http().trustedProxies().isEmpty());

    RelayConfig set = ConfigParser.parse(new JsonObject().put("HEALTH_STALL_SECONDS", "120")
        .put("TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12"));
    assertEquals(java.time.Duration.ofMinutes(2), set.delivery().stallAfter());
    assertEquals("198.51.100.7", set.http().trustedProxies().clientAddress("172.16.3.4",
        java.util.List.of("198.51.100.7")));

    RelayConfig fromFile = ConfigParser.parse(new JsonObject().put("http", new JsonObject()
        .put("trustedProxies", new io.vertx.core.json.JsonArray().add("10.0.0.5"))));
    assertEquals("10.0.0.5", fromFile.http().trustedProxies().toString());
    assertEquals("HEALTH_STALL_SECONDS must be a whole number from 10 to 86400, got \"5\".",
        error(new JsonObject().put("HEALTH_STALL_SECONDS", "5")));
  }

  @Test
  void badPortalUrlsAreRefusedWithoutEchoingTheSecretCode() {
    String message = error(new JsonObject().put("BITRIX_WEBHOOK_URL", "ftp://example.bitrix24.ru/rest/1/topsecretcode1/"));
    assertTrue(message.startsWith("BITRIX_WEBHOOK_URL must start with https://"), message);
    assertFalse(message.contains("topsecretcode1"));
    message = error(new JsonObject().put("BITRIX_WEBHOOK_URL", "https://example.bitrix24.ru/crm/topsecretcode1"));
    assertTrue(message.startsWith("BITRIX_WEBHOOK_URL must look like"), message);
    assertFalse(message.contains("topsecretcode1"));
  }

  @Test
  void portalUrlIsMaskedEverywhereItIsShown() {
    PortalConfig portal = PortalConfig.parse("BITRIX_WEBHOOK_URL", "http://127.0.0.1:8099/rest/12/abcdef0123456789");
    assertEquals("http://127.0.0.1:8099/rest/12/***/", portal.masked());
    assertEquals("http://127.0.0.1:8099/rest/12/***/", portal.toString());
    assertEquals("abcdef0123456789", portal.secretCode());
    assertTrue(portal.insecure());
    assertEquals("http://127.0.0.1:8099/rest/12/abcdef0123456789/crm.lead.add.json", portal.methodUrl("crm.lead.add"));
  }

  @Test
  void answerCapAndRedirectHostsHaveDefaultsAndComeFromTheEnvironment() {
    BitrixHttpConfig defaults = ConfigParser.parse(new JsonObject()).bitrix();
    assertEquals(10 * 1024 * 1024, defaults.maxAnswerBytes());
    assertTrue(defaults.redirectHosts().hosts().isEmpty());

    BitrixHttpConfig set = ConfigParser.parse(new JsonObject()
        .put("BITRIX_MAX_ANSWER_BYTES", "1048576")
        .put("BITRIX_REDIRECT_HOSTS", " CRM.example.com, *.corp.example ,10.0.0.5")).bitrix();
    assertEquals(1048576, set.maxAnswerBytes());
    assertEquals(java.util.List.of("crm.example.com", "*.corp.example", "10.0.0.5"), set.redirectHosts().hosts());
    assertTrue(set.redirectHosts().allows("a.b.corp.example"));
    assertFalse(set.redirectHosts().allows("corp.example.evil"));

    BitrixHttpConfig fromFile = ConfigParser.parse(new JsonObject().put("bitrix", new JsonObject()
        .put("redirectHosts", new io.vertx.core.json.JsonArray().add("crm.example.com")))).bitrix();
    assertEquals(java.util.List.of("crm.example.com"), fromFile.redirectHosts().hosts());
  }

  @Test
  void aBadRedirectHostOrAnswerCapStopsStartUpNamingTheVariable() {
    assertEquals("BITRIX_REDIRECT_HOSTS must be a comma-separated list of host names (crm.example.com,"
        + " *.example.com or an IP address; no scheme, port or path), got \"https://crm.example.com\".",
        error(new JsonObject().put("BITRIX_REDIRECT_HOSTS", "ok.example, https://crm.example.com")));
    assertTrue(error(new JsonObject().put("BITRIX_REDIRECT_HOSTS", "*")).startsWith("BITRIX_REDIRECT_HOSTS must"));
    String notAList = error(new JsonObject().put("bitrix", new JsonObject().put("redirectHosts", 5)));
    assertTrue(notAList.startsWith("bitrix.redirectHosts") && notAList.contains(
        " must be a comma-separated string or an array of host names."), notAList);
    assertTrue(error(new JsonObject().put("BITRIX_MAX_ANSWER_BYTES", "100"))
        .startsWith("BITRIX_MAX_ANSWER_BYTES must be a whole number from 65536"));
  }
}
