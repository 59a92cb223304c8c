package io.leadrelay.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Turns a webhook body into the payload object, or refuses it with the reason. Accepts a JSON object
 * ({@code application/json}) or a flat {@code application/x-www-form-urlencoded} form, both strictly UTF-8.
 *
 * <p>JSON is read with Jackson's streaming parser rather than {@code new JsonObject(..)} so that decimals keep the
 * digits they were written with ({@code "1.50"} stays {@code 1.50} in the lead's comments), duplicate keys are
 * refused instead of silently overwritten, and nesting depth is bounded.
 */
public final class PayloadParser {

  public static final String JSON = "application/json";
  public static final String FORM = "application/x-www-form-urlencoded";

  /** A BotHelp payload is flat; a little nesting is tolerated, a nesting bomb is not. */
  static final int MAX_DEPTH = 32;

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH)
          .maxNumberLength(100)
          .build())
      .build();

  private PayloadParser() {
  }

  /** The media type without parameters, lower-cased; null when absent. */
  public static String mediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    String type = semicolon >= 0 ? contentType.substring(0, semicolon) : contentType;
    return type.trim().toLowerCase(Locale.ROOT);
  }

  /** Refuses, before the body is read, any content type this parser does not accept. */
  public static void checkContentType(String contentType) {
    String type = mediaType(contentType);
    if (!JSON.equals(type) && !FORM.equals(type)) {
      throw new Refusal(415, "unsupported_media_type",
          "Content-Type must be application/json or application/x-www-form-urlencoded, got "
              + (type == null || type.isEmpty() ? "none" : "'" + abbreviate(type) + "'") + ".");
    }
    String charset = charset(contentType);
    if (charset != null && !charset.equals("utf-8") && !charset.equals("utf8")) {
      throw new Refusal(415, "unsupported_charset", "The body must be UTF-8, got charset '" + abbreviate(charset) + "'.");
    }
  }

  /** Parses a body whose content type passed {@link #checkContentType}. */
  public static JsonObject parse(String contentType, byte[] body) {
    if (body.length == 0) {
      throw new Refusal(400, "empty_body", "The request body is empty; expected a JSON object with subscriber data.");
    }
    String text = strictUtf8(body);
    if (FORM.equals(mediaType(contentType))) {
      return FormDecoder.decode(text);
    }
    return parseJson(text);
  }

  private static String strictUtf8(byte[] body) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw new Refusal(400, "invalid_utf8", "The request body is not valid UTF-8.");
    }
  }

  private static JsonObject parseJson(String text) {
    try (JsonParser parser = FACTORY.createParser(text)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new Refusal(400, "empty_body", "The request body is empty; expected a JSON object with subscriber data.");
      }
      Object value = readValue(parser, first);
      if (parser.nextToken() != null) {
        throw new Refusal(400, "malformed_json", "The request body has data after the end of the JSON value.");
      }
      if (!(value instanceof JsonObject object)) {
        throw new Refusal(422, "not_an_object",
            "The JSON body must be an object of subscriber fields, got " + describe(value) + ".");
      }
      return object;
    } catch (StreamConstraintsException e) {
      throw new Refusal(400, "malformed_json", "The JSON body is nested deeper than " + MAX_DEPTH
          + " levels or has a number longer than 100 digits.");
    } catch (JsonProcessingException e) {
      throw new Refusal(400, "malformed_json", "The request body is not valid JSON: " + jacksonReason(e) + ".");
    } catch (IOException e) {
      throw new Refusal(400, "malformed_json", "The request body could not be read as JSON.");
    }
  }

  private static Object readValue(JsonParser parser, JsonToken token) throws IOException {
    switch (token) {
      case START_OBJECT: {
        JsonObject object = new JsonObject();
        JsonToken next;
        while ((next = parser.nextToken()) == JsonToken.FIELD_NAME) {
          String key = parser.currentName();
          object.put(key, readValue(parser, parser.nextToken()));
        }
        if (next != JsonToken.END_OBJECT) {
          throw new Refusal(400, "malformed_json", "The request body is not valid JSON.");
        }
        return object;
      }
      case START_ARRAY: {
        JsonArray array = new JsonArray();
        JsonToken next;
        while ((next = parser.nextToken()) != JsonToken.END_ARRAY) {
          array.add(readValue(parser, next));
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
        // BigDecimal from the literal keeps its scale: "1.50" is not turned into 1.5.
        return parser.getDecimalValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new Refusal(400, "malformed_json", "The request body is not valid JSON.");
    }
  }

  private static String jacksonReason(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    if (message == null) {
      return "unreadable";
    }
    // Jackson quotes input text in its messages; keep the explanation short and free of long payload excerpts.
    int newline = message.indexOf('\n');
    return abbreviate(newline >= 0 ? message.substring(0, newline) : message);
  }

  private static String describe(Object value) {
    if (value instanceof JsonArray) {
      return "an array";
    }
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof Number) {
      return "a number";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    return "null";
  }

  private static String charset(String contentType) {
    for (String part : contentType.split(";")) {
      String p = part.trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) {
        return p.substring("charset=".length()).replace("\"", "").trim();
      }
    }
    return null;
  }

  static String abbreviate(String text) {
    String clean = text.replaceAll("\\p{Cntrl}", "?");
    return clean.length() > 80 ? clean.substring(0, 80) + "..." : clean;
  }
}
