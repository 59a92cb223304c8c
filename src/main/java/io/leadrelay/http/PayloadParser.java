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
import java.math.BigDecimal;
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
  /**
   * Keys and list items in the whole payload, nested ones included. A BotHelp payload has a few dozen; a thousand
   * leaves room for bots with many custom fields, while bounding the parser's work and the lead's COMMENTS.
   */
  static final int MAX_FIELDS = 1_000;
  /** Characters in one key. BotHelp keys are short field names; a longer one is junk or an attack. */
  static final int MAX_KEY_LENGTH = 1_024;
  /**
   * Characters in a number, and digits in its plain form: budgets and ids are short, while a 5,000-digit literal
   * costs quadratic time to convert and {@code 1e999999999} would expand to a billion digits wherever it is
   * written out in full (a database column, a Bitrix24 money field).
   */
  static final int MAX_NUMBER_LENGTH = 100;

  /**
   * Depth, key length and number size are checked by {@link JsonReader} itself so that each gets its own clear
   * refusal; Jackson's own limits are set past anything a body within the size limit can reach, as a backstop.
   */
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH + 1)
          .maxNumberLength(Integer.MAX_VALUE)
          .maxNameLength(Integer.MAX_VALUE)
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
    // A media type has no whitespace in it; BotHelp's own docs print "application/ json", so people send that.
    return type.replaceAll("\\s+", "").toLowerCase(Locale.ROOT);
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
      Object value = new JsonReader(parser).read(first, 1);
      if (parser.nextToken() != null) {
        throw new Refusal(400, "malformed_json", "The request body has data after the end of the JSON value.");
      }
      if (!(value instanceof JsonObject object)) {
        throw new Refusal(422, "not_an_object",
            "The JSON body must be an object of subscriber fields, got " + describe(value) + ".");
      }
      return object;
    } catch (StreamConstraintsException e) {
      // Unreachable while JsonReader checks first; kept so that a Jackson limit can never surface as a 500.
      throw new Refusal(400, "malformed_json", "The JSON body exceeds a parser limit.");
    } catch (JsonProcessingException e) {
      throw new Refusal(400, "malformed_json", "The request body is not valid JSON: " + jacksonReason(e) + ".");
    } catch (IOException e) {
      throw new Refusal(400, "malformed_json", "The request body could not be read as JSON.");
    }
  }

  /** Reads one JSON value into Vert.x JSON types, refusing it as soon as it breaks a limit. */
  private static final class JsonReader {

    private final JsonParser parser;
    private int fields;

    JsonReader(JsonParser parser) {
      this.parser = parser;
    }

    Object read(JsonToken token, int depth) throws IOException {
      switch (token) {
        case START_OBJECT: {
          checkDepth(depth);
          JsonObject object = new JsonObject();
          JsonToken next;
          while ((next = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            countField();
            checkKey(key);
            checkUnicode(key, null);
            object.put(key, read(parser.nextToken(), depth + 1));
          }
          if (next != JsonToken.END_OBJECT) {
            throw new Refusal(400, "malformed_json", "The request body is not valid JSON.");
          }
          return object;
        }
        case START_ARRAY: {
          checkDepth(depth);
          JsonArray array = new JsonArray();
          JsonToken next;
          while ((next = parser.nextToken()) != JsonToken.END_ARRAY) {
            countField();
            array.add(read(next, depth + 1));
          }
          return array;
        }
        case VALUE_STRING: {
          String text = parser.getText();
          if (text.indexOf('\0') >= 0) {
            throw nulCharacter(parser.currentName());
          }
          checkUnicode(text, parser.currentName());
          return text;
        }
        case VALUE_NUMBER_INT:
          checkNumberLength();
          return switch (parser.getNumberType()) {
            case INT -> parser.getIntValue();
            case LONG -> parser.getLongValue();
            default -> parser.getBigIntegerValue();
          };
        case VALUE_NUMBER_FLOAT:
          checkNumberLength();
          // BigDecimal from the literal keeps its scale: "1.50" is not turned into 1.5.
          try {
            return plainSized(parser.getDecimalValue());
          } catch (NumberFormatException e) {
            // An exponent beyond what BigDecimal can hold, e.g. 1e9999999999.
            throw numberOutOfRange(parser.currentName());
          }
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

    private void checkDepth(int depth) {
      if (depth > MAX_DEPTH) {
        throw new Refusal(400, "nesting_too_deep", "The JSON body is nested deeper than " + MAX_DEPTH + " levels.");
      }
    }

    private void countField() {
      if (++fields > MAX_FIELDS) {
        throw tooManyFields();
      }
    }

    private void checkNumberLength() throws IOException {
      if (parser.getTextLength() > MAX_NUMBER_LENGTH) {
        throw numberOutOfRange(parser.currentName());
      }
    }

    /** A short literal can still stand for a huge number: 1e999999999 has a billion digits written out. */
    private BigDecimal plainSized(BigDecimal number) throws IOException {
      long plainDigits = number.scale() < 0 ? (long) number.precision() - number.scale() : number.scale();
      if (plainDigits > MAX_NUMBER_LENGTH) {
        throw numberOutOfRange(parser.currentName());
      }
      return number;
    }
  }

  static void checkKey(String key) {
    if (key.length() > MAX_KEY_LENGTH) {
      throw new Refusal(400, "field_name_too_long", "The payload has a field name of " + key.length()
          + " characters; at most " + MAX_KEY_LENGTH + " are accepted.");
    }
    if (key.indexOf('\0') >= 0) {
      throw nulCharacter(key);
    }
  }

  /**
   * JSON may spell a surrogate half as an escape ({@code "\\ud800"}) that no UTF-8 body can carry. Such text is not
   * Unicode: SQLite and Bitrix24 turn it into {@code ?}, so a payload with keys {@code "a?"} and {@code "a\\ud800"}
   * would be stored with a duplicate key and could never be read back. Refused like any other invalid text.
   * {@code valueOf} names the field whose value is checked (keys are checked first, so it is clean); null for a key.
   */
  static void checkUnicode(String text, String valueOf) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new Refusal(400, "invalid_utf8", "The payload has a lone surrogate escape (\\u"
            + Integer.toHexString(c) + ") in "
            + (valueOf == null ? "a field name" : "field '" + abbreviate(valueOf) + "'")
            + ": it is not a Unicode character and cannot be stored as sent.");
      }
    }
  }

  static Refusal tooManyFields() {
    return new Refusal(400, "too_many_fields", "The payload has more than " + MAX_FIELDS
        + " fields (keys and list items, nested ones included).");
  }

  static Refusal nulCharacter(String key) {
    return new Refusal(400, "nul_character", "The payload has a NUL character (U+0000)"
        + (key == null ? "" : " in field '" + abbreviate(key) + "'")
        + "; databases and Bitrix24 cut text at NUL, so it is refused rather than stored half.");
  }

  private static Refusal numberOutOfRange(String key) {
    return new Refusal(400, "number_out_of_range", "The payload has a number"
        + (key == null ? "" : " in field '" + abbreviate(key) + "'") + " with more than " + MAX_NUMBER_LENGTH
        + " digits written out; send such values as strings.");
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
