package io.leadrelay.logging;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces every occurrence of a known secret (webhook secret, Bitrix24 webhook code, token) with {@code ***}.
 * Producers already mask what they publish; this is the last line of defence before anything reaches a log file.
 */
public final class SecretMasker {

  static final String MASK = "***";

  private final List<String> secrets;

  public SecretMasker(Set<String> secrets) {
    // Longest first: a secret that is part of a longer one must not leave the rest of the longer one behind.
    this.secrets = secrets.stream()
        .filter(s -> s != null && !s.isBlank())
        .distinct()
        .sorted(Comparator.comparingInt(String::length).reversed())
        .toList();
  }

  /** The text with every secret replaced by {@code ***}. */
  public String mask(String text) {
    if (text == null) {
      return null;
    }
    String masked = text;
    for (String secret : secrets) {
      masked = masked.replace(secret, MASK);
    }
    return masked;
  }

  /** True if the text holds any secret. */
  public boolean reveals(String text) {
    return text != null && secrets.stream().anyMatch(text::contains);
  }

  /**
   * A deep copy of the object with secrets masked in every key and value. Masking the values one by one (rather
   * than the encoded text) keeps the line valid JSON whatever characters a secret holds. A number or boolean whose
   * text holds a secret becomes the masked string.
   */
  public JsonObject mask(JsonObject json) {
    if (json == null) {
      return null;
    }
    JsonObject masked = new JsonObject();
    for (Map.Entry<String, Object> entry : json) {
      masked.put(mask(entry.getKey()), maskValue(entry.getValue()));
    }
    return masked;
  }

  private JsonArray mask(JsonArray array) {
    JsonArray masked = new JsonArray();
    for (Object value : array) {
      masked.add(maskValue(value));
    }
    return masked;
  }

  private Object maskValue(Object value) {
    if (value instanceof JsonObject object) {
      return mask(object);
    }
    if (value instanceof JsonArray array) {
      return mask(array);
    }
    if (value instanceof CharSequence text) {
      return mask(text.toString());
    }
    if ((value instanceof Number || value instanceof Boolean) && reveals(String.valueOf(value))) {
      return mask(String.valueOf(value));
    }
    return value;
  }
}
