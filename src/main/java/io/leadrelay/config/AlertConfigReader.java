package io.leadrelay.config;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads the {@code alerts} section and each integration's {@code alerts} override, failing with one sentence. */
final class AlertConfigReader {

  static final Set<String> CHANNEL_KEYS = Set.of("webhookUrl", "telegram", "email");
  private static final Pattern BOT_TOKEN = Pattern.compile("[0-9]{1,20}:[A-Za-z0-9_-]{20,100}");
  private static final Pattern CHAT_ID = Pattern.compile("-?[0-9]{1,20}|@[A-Za-z0-9_]{5,64}");
  /** An address, and nothing that could end a mail header and start another. */
  private static final Pattern EMAIL = Pattern.compile("[^@\\s<>,;]+@[^@\\s<>,;]+");

  private AlertConfigReader() {
  }

  static AlertConfig read(ConfigReader read, JsonObject json) {
    JsonObject alerts = read.object(json, "alerts", "alerts");
    Set<String> known = new java.util.HashSet<>(CHANNEL_KEYS);
    known.addAll(Set.of("smtp", "backlogAgeSeconds", "maxPerHour", "deadAtOnce", "digestMinutes", "checkIntervalMs",
        "adminUrl"));
    read.rejectUnknown(alerts, "alerts", known);
    AlertChannels channels = channels(read, alerts, "alerts");

    Map<String, AlertChannels> byIntegration = new LinkedHashMap<>();
    JsonObject integrations = read.object(json, "integrations", "integrations");
    for (String name : integrations.fieldNames()) {
      if (integrations.getValue(name) instanceof JsonObject integration && integration.containsKey("alerts")) {
        String path = "integrations." + name + ".alerts";
        JsonObject own = read.object(integration, "alerts", path);
        read.rejectUnknown(own, path, CHANNEL_KEYS);
        byIntegration.put(name, channels(read, own, path));
      }
    }

    JsonObject smtpJson = read.object(alerts, "smtp", "alerts.smtp");
    read.rejectUnknown(smtpJson, "alerts.smtp", Set.of("host", "port", "user", "password", "from"));
    SmtpConfig smtp = new SmtpConfig(read.string(smtpJson, "host", "alerts.smtp.host", null),
        read.integer(smtpJson, "port", "alerts.smtp.port", SmtpConfig.DEFAULT_PORT, 1, 65535),
        read.string(smtpJson, "user", "alerts.smtp.user", null),
        read.string(smtpJson, "password", "alerts.smtp.password", null),
        read.string(smtpJson, "from", "alerts.smtp.from", null));
    boolean mails = !channels.emailTo().isEmpty() || byIntegration.values().stream()
        .anyMatch(own -> !own.emailTo().isEmpty());
    if (mails && (smtp.host() == null || smtp.from() == null)) {
      throw new ConfigException("E-mail alerts need an SMTP server: set " + read.name("alerts.smtp.host") + " and "
          + read.name("alerts.smtp.from") + ", or unset " + read.name("alerts.email.to") + ".");
    }
    if (smtp.from() != null && !EMAIL.matcher(smtp.from()).matches()) {
      throw new ConfigException(read.name("alerts.smtp.from") + " must be one e-mail address, got \"" + smtp.from()
          + "\".");
    }
    if (smtp.user() != null && smtp.password() == null) {
      throw new ConfigException(read.name("alerts.smtp.user") + " is set without "
          + read.name("alerts.smtp.password") + ".");
    }

    return new AlertConfig(channels, byIntegration, smtp,
        Duration.ofSeconds(read.integer(alerts, "backlogAgeSeconds", "alerts.backlogAgeSeconds", 1800, 10,
            7 * 86_400)),
        read.integer(alerts, "maxPerHour", "alerts.maxPerHour", 30, 1, 10_000),
        read.integer(alerts, "deadAtOnce", "alerts.deadAtOnce", 3, 0, 1000),
        Duration.ofMinutes(read.integer(alerts, "digestMinutes", "alerts.digestMinutes", 15, 1, 1440)),
        Duration.ofMillis(read.integer(alerts, "checkIntervalMs", "alerts.checkIntervalMs", 10_000, 50, 3_600_000)),
        adminUrl(read, alerts));
  }

  private static AlertChannels channels(ConfigReader read, JsonObject json, String path) {
    String webhook = read.string(json, "webhookUrl", path + ".webhookUrl", null);
    JsonObject telegram = read.object(json, "telegram", path + ".telegram");
    read.rejectUnknown(telegram, path + ".telegram", Set.of("botToken", "chatId", "apiUrl"));
    String token = read.string(telegram, "botToken", path + ".telegram.botToken", null);
    String chat = read.string(telegram, "chatId", path + ".telegram.chatId", null);
    String api = read.string(telegram, "apiUrl", path + ".telegram.apiUrl", null);
    if ((token == null) != (chat == null)) {
      throw new ConfigException("Telegram alerts need both " + read.name(path + ".telegram.botToken") + " and "
          + read.name(path + ".telegram.chatId") + "; only one is set.");
    }
    if (token != null && !BOT_TOKEN.matcher(token).matches()) {
      // Not echoed: it is a secret, and a near miss is one too.
      throw new ConfigException(read.name(path + ".telegram.botToken") + " is not a Telegram bot token (digits, a"
          + " colon, then letters, digits, '-' or '_', as @BotFather gives it).");
    }
    if (chat != null && !CHAT_ID.matcher(chat).matches()) {
      throw new ConfigException(read.name(path + ".telegram.chatId") + " must be a chat's number (e.g. -1001234567)"
          + " or a channel's @name, got \"" + chat + "\".");
    }
    JsonObject email = read.object(json, "email", path + ".email");
    read.rejectUnknown(email, path + ".email", Set.of("to"));
    String to = read.commaList(email, "to", path + ".email.to", "e-mail addresses");
    List<String> addresses = to == null ? List.of() : Arrays.stream(to.split(",")).map(String::trim)
        .filter(a -> !a.isEmpty()).toList();
    for (String address : addresses) {
      if (!EMAIL.matcher(address).matches()) {
        throw new ConfigException(read.name(path + ".email.to") + " must be e-mail addresses separated by commas,"
            + " got \"" + address + "\".");
      }
    }
    return new AlertChannels(webhook == null ? null : httpUrl(read, path + ".webhookUrl", webhook, true), token,
        chat, api == null ? null : httpUrl(read, path + ".telegram.apiUrl", api, false), addresses);
  }

  private static String adminUrl(ConfigReader read, JsonObject alerts) {
    String url = read.string(alerts, "adminUrl", "alerts.adminUrl", null);
    if (url == null) {
      return null;
    }
    String checked = httpUrl(read, "alerts.adminUrl", url, false).toString();
    return checked.endsWith("/") ? checked.substring(0, checked.length() - 1) : checked;
  }

  /** An http(s) URL with a host; {@code secret}: its text is never echoed in the error. */
  private static URI httpUrl(ConfigReader read, String path, String value, boolean secret) {
    try {
      URI uri = new URI(value);
      if (("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
          && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // said below
    }
    throw new ConfigException(read.name(path) + " must be an http:// or https:// URL with a host"
        + (secret ? "." : ", got \"" + value + "\"."));
  }
}
