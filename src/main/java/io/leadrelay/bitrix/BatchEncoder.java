package io.leadrelay.bitrix;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds the commands of a Bitrix24 {@code batch} call (reference: bitrix24-rest.md §5). Inside a batch each
 * command is a string {@code method?query}, and the portal reads the query with PHP's {@code parse_str}, so the
 * parameters are written the way PHP's {@code http_build_query} (the one CRest's {@code callBatch} uses) writes
 * them: nested objects as {@code key[sub]}, arrays as {@code key[0]}, {@code key[1]}, every key part and value
 * percent-encoded as UTF-8 exactly once, structural brackets as {@code %5B}/{@code %5D}.
 *
 * <p>What differs from plain JSON, and so from a single crm.lead.add call:
 * <ul>
 *   <li>A null value is simply not sent (PHP drops it; a query string cannot say "null"). An empty nested object
 *   or array is not sent either: it has no pair to write.</li>
 *   <li>Booleans go as {@code Y}/{@code N}, Bitrix24's own flag values (PHP would send 1/0, which Y/N fields and
 *   list filters do not read as intended: fast_bitrix24 #265).</li>
 *   <li>Numbers go as their JSON text, without an exponent.</li>
 * </ul>
 * Pure and stateless.
 */
public final class BatchEncoder {

  /** Bitrix24 refuses a batch of more commands with ERROR_BATCH_LENGTH_EXCEEDED. */
  public static final int MAX_COMMANDS = 50;

  /** Method names are dotted identifiers; anything else would change how the portal splits the command. */
  private static final Pattern METHOD = Pattern.compile("[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)*");

  /**
   * Command names are PHP array keys on the portal and are quoted in {@code $result[name]} references; keeping
   * them to plain characters keeps both readings unambiguous (delivery ids, ULIDs, fit easily).
   */
  private static final Pattern COMMAND_NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,100}");

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /** PHP's {@code max_input_vars}: the portal's parse_str silently drops every pair of a command past it. */
  public static final int MAX_PAIRS = 1000;

  /** PHP's {@code max_input_nesting_level}: a key with more brackets is dropped whole. */
  public static final int MAX_NESTING = 64;

  /**
   * What Bitrix24 rewrites inside every value of a batch command after parse_str (case-insensitive, anywhere in
   * the value): references to the results of other commands. Matched loosely on purpose: a value that merely
   * looks like one is sent alone rather than risk it arriving changed.
   */
  private static final Pattern SUBSTITUTION = Pattern.compile("\\$(result|next|total|time|error)",
      Pattern.CASE_INSENSITIVE);

  /**
   * One command string, e.g. {@code crm.lead.add?fields%5BTITLE%5D=...&params%5BREGISTER_SONET_EVENT%5D=Y};
   * just the method when nothing is left to send.
   *
   * @throws IllegalArgumentException for a method name that is not a REST method's, {@code batch} itself (a batch
   *     cannot hold a batch), a NaN or infinite number, a value of a type JSON does not have, or a key the portal
   *     would read as a different key: empty (PHP reads {@code a[]} as "append"), containing {@code [} or {@code ]}
   *     (indistinguishable from nesting once decoded) or, at the top level, a space or dot (PHP turns them into
   *     {@code _}). No Bitrix24 field is named like that; such a lead can still be sent alone as JSON.
   */
  public String command(String method, JsonObject params) {
    checkMethod(method);
    StringBuilder query = new StringBuilder();
    if (params != null) {
      for (Map.Entry<String, Object> entry : params) {
        checkTopLevelKey(entry.getKey());
        appendValue(query, encode(entry.getKey()), entry.getValue());
      }
    }
    return query.isEmpty() ? method : method + "?" + query;
  }

  /**
   * Why this call cannot be a command of a batch and must be sent on its own as plain JSON, or null when it can: a
   * value (or key) Bitrix24 would rewrite as a {@code $result[…]}-style reference, more than {@link #MAX_PAIRS}
   * pairs or more than {@link #MAX_NESTING} levels of nesting (PHP would drop some, ORIGIN_ID included), or a key
   * {@link #command} refuses.
   */
  public String aloneReason(String method, JsonObject params) {
    try {
      command(method, params);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    Shape shape = new Shape();
    if (params != null) {
      params.forEach(entry -> shape.visit(entry.getKey(), entry.getKey(), entry.getValue(), 0));
    }
    if (shape.substitution != null) {
      // The field is named, not its value: the value is a subscriber's text.
      return "a value in " + shape.substitution + " would be rewritten by Bitrix24 as a $result[...] reference";
    }
    if (shape.pairs > MAX_PAIRS) {
      return shape.pairs + " parameters are more than the " + MAX_PAIRS + " PHP reads in a batch command";
    }
    if (shape.nesting > MAX_NESTING) {
      return shape.nesting + " levels of nesting are more than the " + MAX_NESTING + " PHP reads";
    }
    return null;
  }

  /** The pairs a call encodes to, its deepest key and its first value Bitrix24 would substitute. */
  private static final class Shape {
    private int pairs;
    private int nesting;
    private String substitution;

    void visit(String parameter, String key, Object value, int depth) {
      if (substitution == null && SUBSTITUTION.matcher(key).find()) {
        substitution = parameter;
      }
      if (value instanceof Map<?, ?> map) {
        value = new JsonObject(castMap(map));
      } else if (value instanceof List<?> list) {
        value = new JsonArray(list);
      }
      if (value instanceof JsonObject object) {
        // Named by the field inside fields[...] (e.g. NAME), which says more than "fields".
        object.forEach(entry ->
            visit(depth == 0 ? entry.getKey() : parameter, entry.getKey(), entry.getValue(), depth + 1));
      } else if (value instanceof JsonArray array) {
        for (int i = 0; i < array.size(); i++) {
          visit(parameter, Integer.toString(i), array.getValue(i), depth + 1);
        }
      } else if (value != null) {
        pairs++;
        nesting = Math.max(nesting, depth);
        if (substitution == null && value instanceof CharSequence text && SUBSTITUTION.matcher(text).find()) {
          substitution = parameter;
        }
      }
    }
  }

  /**
   * The body of a {@code batch} call: {@code {"halt":0,"cmd":{name: command}}} with the commands in the map's
   * iteration order. {@code halt: 0} runs every command even after one fails, so each lead gets its own outcome.
   *
   * @throws IllegalArgumentException for no commands or more than {@link #MAX_COMMANDS}, a command name that is
   *     not 1-100 letters, digits or {@code _ . : -}, a blank command, or a nested {@code batch}
   */
  public JsonObject batchBody(Map<String, String> commands) {
    if (commands == null || commands.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one command");
    }
    if (commands.size() > MAX_COMMANDS) {
      throw new IllegalArgumentException("a batch holds at most " + MAX_COMMANDS + " commands, got "
          + commands.size());
    }
    JsonObject cmd = new JsonObject();
    for (Map.Entry<String, String> entry : commands.entrySet()) {
      String name = entry.getKey();
      String command = entry.getValue();
      if (name == null || !COMMAND_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("batch command names must be 1-100 letters, digits or _ . : -, got \""
            + name + "\"");
      }
      if (command == null || command.isBlank()) {
        throw new IllegalArgumentException("batch command " + name + " is empty");
      }
      int query = command.indexOf('?');
      checkMethod(query < 0 ? command : command.substring(0, query));
      cmd.put(name, command);
    }
    return new JsonObject().put("halt", 0).put("cmd", cmd);
  }

  private static void checkMethod(String method) {
    if (method == null || !METHOD.matcher(method).matches()) {
      throw new IllegalArgumentException("not a REST method name: \"" + method + "\"");
    }
    if (method.equalsIgnoreCase("batch")) {
      throw new IllegalArgumentException("a batch cannot contain another batch");
    }
  }

  private static void checkTopLevelKey(String key) {
    checkKey(key);
    if (key.indexOf(' ') >= 0 || key.indexOf('.') >= 0) {
      throw new IllegalArgumentException("parameter name \"" + key
          + "\" would reach Bitrix24 with '_' in place of its spaces and dots");
    }
  }

  private static void checkKey(String key) {
    if (key.isEmpty()) {
      throw new IllegalArgumentException("an empty key would be read by Bitrix24 as \"append\"");
    }
    if (key.indexOf('[') >= 0 || key.indexOf(']') >= 0) {
      throw new IllegalArgumentException("key \"" + key
          + "\" contains a bracket, which Bitrix24 would read as nesting");
    }
  }

  /** Appends the pairs for one value at {@code key} (already encoded), PHP-style; nothing for null or empty. */
  private static void appendValue(StringBuilder query, String key, Object value) {
    if (value == null) {
      return;
    }
    if (value instanceof Map<?, ?> map) {
      value = new JsonObject(castMap(map));
    } else if (value instanceof List<?> list) {
      value = new JsonArray(list);
    }
    if (value instanceof JsonObject object) {
      for (Map.Entry<String, Object> entry : object) {
        checkKey(entry.getKey());
        appendValue(query, nested(key, encode(entry.getKey())), entry.getValue());
      }
    } else if (value instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        // Indexes are kept even after a dropped null, as PHP does: multi-field rows stay paired with their index.
        appendValue(query, nested(key, Integer.toString(i)), array.getValue(i));
      }
    } else {
      if (!query.isEmpty()) {
        query.append('&');
      }
      query.append(key).append('=').append(encode(scalar(key, value)));
    }
  }

  private static String nested(String key, String part) {
    return key + "%5B" + part + "%5D";
  }

  private static String scalar(String key, Object value) {
    if (value instanceof CharSequence text) {
      return text.toString();
    }
    if (value instanceof Boolean flag) {
      return flag ? "Y" : "N";
    }
    if (value instanceof Number number) {
      return number(key, number);
    }
    if (value instanceof Enum<?> constant) {
      return constant.name();
    }
    if (value instanceof Instant instant) {
      // Vert.x writes an Instant into JSON the same way.
      return DateTimeFormatter.ISO_INSTANT.format(instant);
    }
    throw new IllegalArgumentException("cannot send a " + value.getClass().getSimpleName() + " at "
        + decodedKey(key));
  }

  private static String number(String key, Number number) {
    if (number instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    if (number instanceof BigInteger || number instanceof Long || number instanceof Integer
        || number instanceof Short || number instanceof Byte) {
      return number.toString();
    }
    double value = number.doubleValue();
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("cannot send " + value + " at " + decodedKey(key));
    }
    // Double.toString is the shortest text that reads back as the same double, i.e. what JSON writes;
    // only its exponent form is rewritten, since PHP's (float) cast is the only reader that accepts it.
    String text = number instanceof Float ? Float.toString(number.floatValue()) : Double.toString(value);
    return text.indexOf('E') < 0 ? text : new BigDecimal(text).stripTrailingZeros().toPlainString();
  }

  /** PHP's {@code urlencode}: letters, digits and {@code - _ .} as they are, space as {@code +}, the rest as
   * {@code %XX} of its UTF-8 bytes. {@code +} is what PHP's http_build_query and so CRest send by default, and the
   * portal's {@code parse_str} reads it back as a space; a literal {@code +} therefore becomes {@code %2B}. */
  static String encode(String text) {
    // A lone surrogate (never valid text) becomes '?', as Java's UTF-8 encoder does everywhere else.
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length + 16);
    for (byte b : bytes) {
      int c = b & 0xFF;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.') {
        out.append((char) c);
      } else if (c == ' ') {
        out.append('+');
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    return out.toString();
  }

  /** The key as a person would write it, for error messages ({@code fields[PHONE][0]}). */
  private static String decodedKey(String key) {
    return URLDecoder.decode(key, StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }
}
