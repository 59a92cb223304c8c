package io.leadrelay.mapping;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * How a BotHelp payload value reads in a lead: when it counts as empty, and the text a person sees for it in a
 * Bitrix24 field or a COMMENTS line. BotHelp sends whatever its bot collected, so every JSON type must render
 * and nothing here may throw.
 */
final class PayloadValue {

  private PayloadValue() {
  }

  /** Null, a string that is blank after trim, or an empty object/array: BotHelp sends these for "not filled in". */
  static boolean isBlank(Object value) {
    if (value == null) {
      return true;
    }
    if (value instanceof CharSequence text) {
      return text.toString().isBlank();
    }
    if (value instanceof JsonObject object) {
      return object.isEmpty();
    }
    if (value instanceof JsonArray array) {
      return array.isEmpty();
    }
    if (value instanceof Map<?, ?> map) {
      return map.isEmpty();
    }
    if (value instanceof List<?> list) {
      return list.isEmpty();
    }
    return false;
  }

  /**
   * The value as text, trimmed; "" for a blank value. Numbers read as they were written (an operator would not
   * recognise "9000.0" for a budget of 9000), nested values as compact JSON.
   */
  static String text(Object value) {
    if (isBlank(value)) {
      return "";
    }
    if (value instanceof CharSequence text) {
      return text.toString().trim();
    }
    if (value instanceof BigDecimal decimal) {
      // toString keeps the scale the sender wrote ("1.50"); it only switches to an exponent for extreme values.
      return decimal.toString();
    }
    if (value instanceof Double || value instanceof Float) {
      return floatingText(((Number) value).doubleValue());
    }
    if (value instanceof JsonObject || value instanceof JsonArray || value instanceof Map || value instanceof List) {
      return json(value);
    }
    // Integer, Long, Short, Byte, BigInteger, Boolean, Instant and anything else: their own text is the natural one.
    return String.valueOf(value);
  }

  private static String floatingText(double number) {
    if (Double.isNaN(number) || Double.isInfinite(number)) {
      return Double.toString(number);
    }
    // Jackson turns every JSON fraction into a Double, so 5.0 may have been written "5" or "5.0"; "5" is the
    // likelier and the one that reads right. Plain notation avoids "1.0E7" for a budget of ten million.
    return BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
  }

  private static String json(Object value) {
    try {
      if (value instanceof JsonObject object) {
        return object.encode();
      }
      if (value instanceof JsonArray array) {
        return array.encode();
      }
      if (value instanceof Map<?, ?> map) {
        return new JsonObject(castMap(map)).encode();
      }
      return new JsonArray((List<?>) value).encode();
    } catch (RuntimeException notEncodable) {
      // A value put into the JsonObject by code (not parsed from JSON) may hold a type Jackson cannot encode.
      return String.valueOf(value);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }
}
