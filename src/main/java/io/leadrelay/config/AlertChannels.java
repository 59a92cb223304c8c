package io.leadrelay.config;

import java.net.URI;
import java.util.List;

/**
 * Where alerts go: any of a JSON webhook (Slack and Mattermost incoming webhooks take its {@code {"text": ...}}),
 * a Telegram chat through a bot, and e-mail addresses (sent through the deployment's SMTP server). The webhook URL
 * and the bot token are secrets: only {@link #describe()} may be shown.
 *
 * @param telegramApiUrl the Bot API's base URL (Telegram's own unless a proxy or a test says otherwise)
 */
public record AlertChannels(URI webhookUrl, String telegramBotToken, String telegramChatId, URI telegramApiUrl,
                            List<String> emailTo) {

  public static final URI TELEGRAM_API = URI.create("https://api.telegram.org");
  public static final AlertChannels NONE = new AlertChannels(null, null, null, TELEGRAM_API, List.of());

  public AlertChannels {
    emailTo = emailTo == null ? List.of() : List.copyOf(emailTo);
    telegramApiUrl = telegramApiUrl == null ? TELEGRAM_API : telegramApiUrl;
  }

  public boolean telegram() {
    return telegramBotToken != null && telegramChatId != null;
  }

  public boolean any() {
    return webhookUrl != null || telegram() || !emailTo.isEmpty();
  }

  /** The channels without their secrets, for the start-up line and error.log. */
  public String describe() {
    List<String> parts = new java.util.ArrayList<>();
    if (webhookUrl != null) {
      parts.add("webhook " + webhookUrl.getScheme() + "://" + webhookUrl.getAuthority() + "/***");
    }
    if (telegram()) {
      parts.add("Telegram chat " + telegramChatId);
    }
    if (!emailTo.isEmpty()) {
      parts.add("e-mail to " + String.join(", ", emailTo));
    }
    return parts.isEmpty() ? "none" : String.join(", ", parts);
  }

  @Override
  public String toString() {
    return "AlertChannels[" + describe() + "]";
  }
}
