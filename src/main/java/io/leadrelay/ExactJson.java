package io.leadrelay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;

/**
 * JSON text that reads back exactly as it was written. Vert.x's own decoder (used by the clustered event bus for a
 * {@link JsonObject} body) reads {@code 9000.00} as the double {@code 9000.0}; a payload's numbers must instead reach
 * Bitrix24 with the digits BotHelp sent, whichever node maps and sends them. So a bus message carries payloads and
 * lead fields as text written by {@link #encode} and read by {@link #decode}, which keeps decimals as
 * {@link java.math.BigDecimal} with their scale and integers as int, long or BigInteger by size (as the webhook
 * parser does).
 */
public final class ExactJson {

  /** Text written by this relay after its own checks: Jackson's limits only need to let it through. */
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNumberLength(Integer.MAX_VALUE)
          .maxStringLength(Integer.MAX_VALUE)
          .build())
      .build();

  private ExactJson() {
  }

  /** The object as JSON text; decimals keep their digits (Jackson writes a BigDecimal as it is). */
  public static String encode(JsonObject object) {
    return object.encode();
  }

  /** Reads a JSON object written by {@link #encode}. */
  public static JsonObject decode(String text) {
    try (JsonParser parser = FACTORY.createParser(text)) {
      Object value = read(parser, parser.nextToken());
      if (!(value instanceof JsonObject object) || parser.nextToken() != null) {
        throw new DecodeException("Expected one JSON object");
      }
      return object;
    } catch (IOException e) {
      throw new DecodeException("Not valid JSON: " + e.getMessage(), e);
    }
  }

  /** A message field that holds an object: as text from {@link #encode}, or a JsonObject from an older sender. */
  public static JsonObject objectOf(Object value) {
    if (value instanceof String text) {
      return decode(text);
    }
    return value instanceof JsonObject object ? object : null;
  }

  private static Object read(JsonParser parser, JsonToken token) throws IOException {
    if (token == null) {
      throw new DecodeException("Empty JSON text");
    }
    switch (token) {
      case START_OBJECT: {
        JsonObject object = new JsonObject();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String key = parser.currentName();
          object.put(key, read(parser, parser.nextToken()));
        }
        return object;
      }
      case START_ARRAY: {
        JsonArray array = new JsonArray();
        JsonToken next;
        while ((next = parser.nextToken()) != JsonToken.END_ARRAY) {
          array.add(read(parser, next));
        }
        return array;
      }
      case VALUE_STRING:
        return parser.getText();
      case VALUE_NUMBER_INT:
        return switch (parser.getNumberType()) {
          case INT -> parser.getIntValue();
          case LONG -> parser.getLongValue();
          default -> parser.getBigIntegerValue();
        };
      case VALUE_NUMBER_FLOAT:
        return parser.getDecimalValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new DecodeException("Unexpected JSON token " + token);
    }
  }
}
