package io.leadrelay.store;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * What an operator searches a subscriber by, kept beside each delivery in one normalised column: the names, e-mail,
 * messenger nickname and phone of the payload in lower case, plus the phone's digits alone (and a Russian
 * 8-prefixed number also as +7), so that "+7 (999) 123-45-67", "89991234567" and "999 123" all find the same
 * subscriber. A query is normalised the same way and matched as a substring. Plain Java, no store in it.
 */
public final class SubscriberText {

  /** Payload keys that name or reach the subscriber (BotHelp's standard fields). */
  private static final String[] KEYS = {"name", "first_name", "last_name", "email", "phone", "messenger_username"};
  /** Custom fields under such display names are searched too: bots often ask "Телефон" or "E-mail" themselves. */
  private static final String[] CUSTOM_HINTS = {"phone", "телефон", "mail", "почт", "имя", "фамилия"};
  /** A phone query: digits and the usual punctuation only. */
  private static final String PHONE_CHARS = "[0-9+()\\-. ]+";

  private SubscriberText() {
  }

  /** The search column's value for a payload; "" for none (so the row is never looked at again by a backfill). */
  public static String of(JsonObject payload) {
    if (payload == null) {
      return "";
    }
    Set<String> parts = new LinkedHashSet<>();
    for (String key : KEYS) {
      add(parts, key, payload.getValue(key));
    }
    for (String key : payload.fieldNames()) {
      String lower = key.toLowerCase(Locale.ROOT);
      for (String hint : CUSTOM_HINTS) {
        if (lower.contains(hint)) {
          add(parts, lower, payload.getValue(key));
          break;
        }
      }
    }
    return String.join("\n", parts);
  }

  private static void add(Set<String> parts, String key, Object value) {
    if (!(value instanceof String) && !(value instanceof Number)) {
      return;
    }
    String text = value.toString().trim().toLowerCase(Locale.ROOT);
    if (text.isEmpty()) {
      return;
    }
    parts.add(text);
    if (key.contains("phone") || key.contains("телефон")) {
      String digits = text.replaceAll("[^0-9]", "");
      if (!digits.isEmpty()) {
        parts.add(digits);
        if (digits.length() == 11 && digits.charAt(0) == '8') {
          parts.add("7" + digits.substring(1));
        }
      }
    }
  }

  /**
   * The substring to look for in the column for what an operator typed: a phone-looking query becomes its digits
   * (an 11-digit Russian number its last ten, which both +7 and 8 forms contain); anything else is lower-cased.
   * Null for a blank query.
   */
  public static String needle(String query) {
    if (query == null || query.isBlank()) {
      return null;
    }
    String text = query.trim().toLowerCase(Locale.ROOT);
    String digits = text.replaceAll("[^0-9]", "");
    if (text.matches(PHONE_CHARS) && digits.length() >= 3) {
      return digits.length() == 11 && (digits.charAt(0) == '7' || digits.charAt(0) == '8')
          ? digits.substring(1) : digits;
    }
    return text;
  }
}
