package io.leadrelay.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Decodes a PHP-style query string ({@code fields[PHONE][0][VALUE]=...}) into JSON the way PHP's parse_str
 * does, as Bitrix24 reads each command of a batch. Numeric-keyed levels become arrays. Like PHP with its default
 * settings, it reads at most {@link #MAX_INPUT_VARS} pairs and drops a key nested deeper than
 * {@link #MAX_NESTING_LEVEL}. PhpParseStrTest checks it against real PHP. Test code only.
 */
public final class PhpQuery {

  /** PHP's max_input_vars default: pairs past it are silently dropped. */
  public static final int MAX_INPUT_VARS = 1000;
  /** PHP's max_input_nesting_level default: a key with more brackets is dropped. */
  public static final int MAX_NESTING_LEVEL = 64;

  private PhpQuery() {
  }

  public static JsonObject decode(String query) {
    JsonObject root = new JsonObject();
    if (query == null || query.isEmpty()) {
      return root;
    }
    int pairs = 0;
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      if (++pairs > MAX_INPUT_VARS) {
        break;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair, StandardCharsets.UTF_8);
      String value = eq >= 0 ? URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8) : "";
      put(root, key, value);
    }
    return arrays(root);
  }

  private static void put(JsonObject root, String key, String value) {
    int bracket = key.indexOf('[');
    if (bracket < 0) {
      root.put(key, value);
      return;
    }
    if (key.chars().filter(c -> c == '[').count() > MAX_NESTING_LEVEL) {
      return;
    }
    JsonObject node = root;
    String name = key.substring(0, bracket);
    String rest = key.substring(bracket);
    while (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      String next = rest.substring(1, close);
      rest = rest.substring(close + 1);
      JsonObject child = node.getValue(name) instanceof JsonObject existing ? existing : new JsonObject();
      node.put(name, child);
      node = child;
      name = next;
    }
    node.put(name, value);
  }

  /** Objects whose keys are 0..n-1 become arrays, as PHP's lists do in JSON. */
  private static JsonObject arrays(JsonObject object) {
    JsonObject result = new JsonObject();
    object.forEach(entry -> result.put(entry.getKey(), convert(entry.getValue())));
    return result;
  }

  private static Object convert(Object value) {
    if (!(value instanceof JsonObject object)) {
      return value;
    }
    boolean list = !object.isEmpty();
    int i = 0;
    for (String key : object.fieldNames()) {
      list &= key.equals(String.valueOf(i++));
    }
    if (!list) {
      return arrays(object);
    }
    JsonArray array = new JsonArray();
    object.forEach(entry -> array.add(convert(entry.getValue())));
    return array;
  }
}
