package io.leadrelay.config;

import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads from the configuration JSON with one-sentence errors that name the key — or the environment
 * variable, when the value came from one, since that is what the user has to fix.
 */
final class ConfigReader {

  /** Full key path → the environment variable that sets it. */
  private static final Map<String, String> VARIABLES = ConfigParser.ENV_KEYS.entrySet().stream()
      .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getValue, Map.Entry::getKey));

  /** Full key path (e.g. "http.port") → the environment variable it was taken from. */
  private final Map<String, String> envSources;

  ConfigReader(Map<String, String> envSources) {
    this.envSources = envSources;
  }

  /**
   * What to call the value at {@code path} in an error: the environment variable it came from, or the key with the
   * variable that would set it (users of the documented variables may never have seen the JSON path).
   */
  String name(String path) {
    String env = envSources.get(path);
    if (env != null) {
      return env;
    }
    String variable = VARIABLES.get(path);
    return variable != null ? path + " (" + variable + ")" : path;
  }

  JsonObject object(JsonObject parent, String key, String path) {
    Object value = parent.getValue(key);
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject object)) {
      throw new ConfigException(name(path) + " must be a JSON object.");
    }
    return object;
  }

  String string(JsonObject parent, String key, String path, String fallback) {
    Object value = parent.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String text)) {
      throw new ConfigException(name(path) + " must be a string.");
    }
    return text.isBlank() ? fallback : text.trim();
  }

  /**
   * A list setting: one comma-separated string (as its environment variable gives it) or, in the file, a JSON array
   * of strings, returned as one comma-separated string for the setting's own parser; null when unset or blank.
   * {@code what} names the entries in the one sentence a value of another shape stops start-up with.
   */
  String commaList(JsonObject parent, String key, String path, String what) {
    Object value = parent.getValue(key);
    if (value instanceof io.vertx.core.json.JsonArray array && array.stream().allMatch(String.class::isInstance)) {
      return String.join(",", array.stream().map(String.class::cast).toList());
    }
    if (value != null && !(value instanceof String)) {
      throw new ConfigException(name(path) + " must be a comma-separated string or an array of " + what + ".");
    }
    return string(parent, key, path, null);
  }

  int integer(JsonObject parent, String key, String path, int fallback, int min, int max) {
    Object value = parent.getValue(key);
    if (value == null || (value instanceof String s && s.isBlank())) {
      return fallback;
    }
    long number;
    try {
      number = value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
          ? n.longValue() : Long.parseLong(value.toString().trim());
    } catch (NumberFormatException e) {
      number = Long.MIN_VALUE;
    }
    if (number < min || number > max) {
      throw new ConfigException(name(path) + " must be a whole number from " + min + " to " + max + ", got "
          + quote(value) + ".");
    }
    return (int) number;
  }

  /** A switch: JSON true/false, or the text true/false (any case) as an environment variable gives it. */
  boolean bool(JsonObject parent, String key, String path, boolean fallback) {
    Object value = parent.getValue(key);
    if (value instanceof Boolean flag) {
      return flag;
    }
    String text = value == null ? "" : value.toString().trim().toLowerCase(java.util.Locale.ROOT);
    if (text.isEmpty()) {
      return fallback;
    }
    if (!text.equals("true") && !text.equals("false")) {
      throw new ConfigException(name(path) + " must be true or false, got " + quote(value) + ".");
    }
    return text.equals("true");
  }

  void rejectUnknown(JsonObject object, String path, Set<String> allowed) {
    Set<String> unknown = new TreeSet<>(object.fieldNames());
    unknown.removeAll(allowed);
    if (!unknown.isEmpty()) {
      String where = path.isEmpty() ? "the configuration" : path;
      throw new ConfigException("Unknown key '" + unknown.iterator().next() + "' in " + where
          + "; known keys are " + String.join(", ", new TreeSet<>(allowed)) + ".");
    }
  }

  static String quote(Object value) {
    return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
  }
}
