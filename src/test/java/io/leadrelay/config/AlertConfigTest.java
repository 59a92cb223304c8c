package io.leadrelay.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlertConfigTest {

  private static final String TOKEN = "4242:test-bot-token-do-not-use-x";
  private static final String HOOK = "https://hooks.example.com/services/T0/B0/test-hook-key-x";

  private static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(json)).getMessage();
  }

  @Test
  void withoutAnySettingNobodyIsAlertedAndTheDefaultsHold() {
    AlertConfig alerts = ConfigParser.parse(new JsonObject()).alerts();
    assertFalse(alerts.enabled());
    assertEquals(Duration.ofMinutes(30), alerts.backlogAge());
    assertEquals(30, alerts.maxPerHour());
    assertEquals(3, alerts.deadAtOnce());
    assertEquals(Duration.ofMinutes(15), alerts.digestEvery());
    assertEquals(Duration.ofSeconds(10), alerts.checkEvery());
    assertNull(alerts.adminUrl());
  }

  @Test
  void theShippedFileSpellsOutTheDefaultsWithNoChannel() throws java.io.IOException {
    JsonObject shipped = new JsonObject(java.nio.file.Files.readString(java.nio.file.Path.of("conf/config.json")));
    AlertConfig alerts = ConfigParser.parse(shipped).alerts();
    assertEquals(ConfigParser.parse(new JsonObject()).alerts(), alerts);
    assertFalse(alerts.enabled());
    // A channel set by the environment alone is not undone by the file's empty values.
    AlertConfig telegram = ConfigParser.parse(shipped.copy().put("ALERT_TELEGRAM_BOT_TOKEN", TOKEN)
        .put("ALERT_TELEGRAM_CHAT_ID", "-1001234567")).alerts();
    assertTrue(telegram.channels().telegram());
  }

  @Test
  void theEnvironmentSetsEveryChannel() {
    AlertConfig alerts = ConfigParser.parse(new JsonObject()
        .put("ALERT_WEBHOOK_URL", HOOK)
        .put("ALERT_TELEGRAM_BOT_TOKEN", TOKEN)
        .put("ALERT_TELEGRAM_CHAT_ID", "-1001234567")
        .put("ALERT_TELEGRAM_API_URL", "http://127.0.0.1:8081")
        .put("ALERT_EMAIL_TO", "ops@example.com, owner@example.com")
        .put("SMTP_HOST", "smtp.example.com")
        .put("SMTP_PORT", "465")
        .put("SMTP_USER", "relay")
        .put("SMTP_PASSWORD", "smtp-pass-x")
        .put("SMTP_FROM", "relay@example.com")
        .put("ALERT_BACKLOG_AGE_SECONDS", "600")
        .put("ALERT_MAX_PER_HOUR", "12")
        .put("ALERT_DIGEST_MINUTES", "5")
        .put("ALERT_DEAD_AT_ONCE", "1")
        .put("ADMIN_URL", "https://relay.example.com/")).alerts();
    AlertChannels channels = alerts.channels();
    assertEquals(URI.create(HOOK), channels.webhookUrl());
    assertEquals(TOKEN, channels.telegramBotToken());
    assertEquals("-1001234567", channels.telegramChatId());
    assertEquals(URI.create("http://127.0.0.1:8081"), channels.telegramApiUrl());
    assertEquals(List.of("ops@example.com", "owner@example.com"), channels.emailTo());
    assertEquals(new SmtpConfig("smtp.example.com", 465, "relay", "smtp-pass-x", "relay@example.com"), alerts.smtp());
    assertEquals(Duration.ofMinutes(10), alerts.backlogAge());
    assertEquals(12, alerts.maxPerHour());
    assertEquals(Duration.ofMinutes(5), alerts.digestEvery());
    assertEquals(1, alerts.deadAtOnce());
    assertEquals("https://relay.example.com", alerts.adminUrl());
    assertEquals("webhook https://hooks.example.com/***, Telegram chat -1001234567, e-mail to ops@example.com,"
        + " owner@example.com", channels.describe());
    assertFalse(alerts.toString().contains(TOKEN) || alerts.toString().contains("test-hook-key-x")
        || alerts.toString().contains("smtp-pass-x"), alerts.toString());
  }

  @Test
  void anIntegrationsOwnChannelsReplaceTheDeploymentsForItsAlerts() {
    AlertConfig alerts = ConfigParser.parse(new JsonObject()
        .put("alerts", new JsonObject().put("webhookUrl", HOOK))
        .put("integrations", new JsonObject()
            .put("shop", new JsonObject().put("alerts", new JsonObject()
                .put("telegram", new JsonObject().put("botToken", TOKEN).put("chatId", "@shop_leads"))))
            .put("blog", new JsonObject()))).alerts();
    assertEquals(URI.create(HOOK), alerts.channelsFor("blog").webhookUrl());
    assertEquals(URI.create(HOOK), alerts.channelsFor(null).webhookUrl());
    AlertChannels shop = alerts.channelsFor("shop");
    assertNull(shop.webhookUrl());
    assertEquals("@shop_leads", shop.telegramChatId());
    assertEquals(AlertChannels.TELEGRAM_API, shop.telegramApiUrl());
    assertTrue(alerts.enabled());
  }

  @Test
  void mistakesStopStartUpWithOneSentenceAndNoSecretInIt() {
    assertEquals("Telegram alerts need both ALERT_TELEGRAM_BOT_TOKEN and alerts.telegram.chatId"
        + " (ALERT_TELEGRAM_CHAT_ID); only one is set.",
        error(new JsonObject().put("ALERT_TELEGRAM_BOT_TOKEN", TOKEN)));
    String badToken = error(new JsonObject().put("ALERT_TELEGRAM_BOT_TOKEN", "4242/secret-looking-thing")
        .put("ALERT_TELEGRAM_CHAT_ID", "1"));
    assertTrue(badToken.startsWith("ALERT_TELEGRAM_BOT_TOKEN is not a Telegram bot token"), badToken);
    assertFalse(badToken.contains("secret-looking-thing"), badToken);
    assertEquals("E-mail alerts need an SMTP server: set alerts.smtp.host (SMTP_HOST) and alerts.smtp.from"
        + " (SMTP_FROM), or unset ALERT_EMAIL_TO.", error(new JsonObject().put("ALERT_EMAIL_TO", "ops@example.com")));
    assertEquals("ALERT_EMAIL_TO must be e-mail addresses separated by commas, got \"ops@example.com\r\nBcc:"
        + " x@y\".", error(new JsonObject().put("ALERT_EMAIL_TO", "ops@example.com\r\nBcc: x@y")
            .put("SMTP_HOST", "h").put("SMTP_FROM", "relay@example.com")));
    String badHook = error(new JsonObject().put("ALERT_WEBHOOK_URL", "ftp://hooks.example.com/test-hook-key-x"));
    assertEquals("ALERT_WEBHOOK_URL must be an http:// or https:// URL with a host.", badHook);
    assertEquals("Unknown key 'sms' in integrations.shop.alerts; known keys are email, telegram, webhookUrl.",
        error(new JsonObject().put("integrations", new JsonObject().put("shop", new JsonObject()
            .put("alerts", new JsonObject().put("sms", "+7999"))))));
    assertEquals("ALERT_BACKLOG_AGE_SECONDS must be a whole number from 10 to 604800, got \"5\".",
        error(new JsonObject().put("ALERT_BACKLOG_AGE_SECONDS", "5")));
    assertEquals("alerts.email.to (ALERT_EMAIL_TO) must be a comma-separated string or an array of e-mail"
        + " addresses.", error(new JsonObject().put("alerts", new JsonObject().put("email", new JsonObject()
            .put("to", new JsonArray().add(1))))));
  }
}
