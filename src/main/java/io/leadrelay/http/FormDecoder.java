package io.leadrelay.http;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes a flat {@code application/x-www-form-urlencoded} body into a payload object of strings, in the order the
 * keys came. Written by hand because {@link java.net.URLDecoder} silently replaces bad percent-escapes and
 * invalid UTF-8, and a payload must be refused rather than half-read. A repeated key is refused too: which of its
 * values the subscriber meant cannot be known. The limits on fields, key length and NUL characters are
 * {@link PayloadParser}'s, the same as for JSON.
 */
final class FormDecoder {

  private FormDecoder() {
  }

  static JsonObject decode(String body) {
    JsonObject payload = new JsonObject();
    int fields = 0;
    // Walked with indexOf rather than split so that a body of 10k pairs is refused at pair 1,001, not copied first.
    for (int start = 0; start <= body.length(); ) {
      int end = body.indexOf('&', start);
      if (end < 0) {
        end = body.length();
      }
      String pair = body.substring(start, end);
      start = end + 1;
      if (pair.isEmpty()) {
        continue;
      }
      if (++fields > PayloadParser.MAX_FIELDS) {
        throw PayloadParser.tooManyFields();
      }
      int eq = pair.indexOf('=');
      String key = unescape(eq >= 0 ? pair.substring(0, eq) : pair);
      String value = eq >= 0 ? unescape(pair.substring(eq + 1)) : "";
      if (key.isEmpty()) {
        throw new Refusal(400, "malformed_form", "The form body has a field with an empty name.");
      }
      PayloadParser.checkKey(key);
      if (value.indexOf('\0') >= 0) {
        throw PayloadParser.nulCharacter(key);
      }
      if (payload.containsKey(key)) {
        throw new Refusal(400, "repeated_form_key",
            "The form field '" + PayloadParser.abbreviate(key) + "' appears more than once.");
      }
      payload.put(key, value);
    }
    if (payload.isEmpty()) {
      throw new Refusal(400, "empty_body", "The form body has no fields.");
    }
    return payload;
  }

  private static String unescape(String text) {
    if (text.indexOf('%') < 0 && text.indexOf('+') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '+') {
        bytes.write(' ');
      } else if (c == '%') {
        if (i + 2 >= text.length() || Character.digit(text.charAt(i + 1), 16) < 0
            || Character.digit(text.charAt(i + 2), 16) < 0) {
          throw new Refusal(400, "malformed_form", "The form body has an invalid %-escape.");
        }
        bytes.write(Character.digit(text.charAt(i + 1), 16) * 16 + Character.digit(text.charAt(i + 2), 16));
        i += 2;
      } else {
        byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        if (Character.isHighSurrogate(c) && i + 1 < text.length()) {
          raw = text.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
          i++;
        }
        bytes.writeBytes(raw);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new Refusal(400, "invalid_utf8", "The form body has a %-escaped value that is not valid UTF-8.");
    }
  }
}
