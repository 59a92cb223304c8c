package io.leadrelay.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PayloadParserTest {

  private static JsonObject json(String body) {
    return PayloadParser.parse("application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  private static Refusal refusal(String contentType, byte[] body) {
    return assertThrows(Refusal.class, () -> PayloadParser.parse(contentType, body));
  }

  @Test
  void keepsKeyOrderCyrillicEmojiAndSpaces() {
    JsonObject payload = json("{\"страна\":\"Япония🇯🇵\",\"Тип продукта\":\"X\",\"a\":1}");
    assertEquals(List.of("страна", "Тип продукта", "a"), List.copyOf(payload.fieldNames()));
    assertEquals("Япония🇯🇵", payload.getString("страна"));
  }

  @Test
  void keepsNumbersAsWritten() {
    JsonObject payload = json("{\"i\":9000,\"l\":12345678901,\"d\":1.50,\"big\":123456789012345678901234567890}");
    assertEquals(9000, payload.getValue("i"));
    assertEquals(12345678901L, payload.getValue("l"));
    assertEquals(new BigDecimal("1.50"), payload.getValue("d"));
    assertEquals("1.50", payload.getValue("d").toString());
    assertEquals(new BigInteger("123456789012345678901234567890"), payload.getValue("big"));
  }

  @Test
  void readsNestedValuesNullsAndBooleans() {
    JsonObject payload = json("{\"n\":null,\"t\":true,\"o\":{\"x\":[1,\"a\"]}}");
    assertTrue(payload.containsKey("n"));
    assertEquals(Boolean.TRUE, payload.getValue("t"));
    assertEquals(new JsonArray().add(1).add("a"), payload.getJsonObject("o").getJsonArray("x"));
  }

  @Test
  void refusesEmptyAndWhitespaceBodies() {
    assertEquals("empty_body", refusal("application/json", new byte[0]).code());
    assertEquals(400, refusal("application/json", "  \n".getBytes()).status());
  }

  @Test
  void refusesMalformedJson() {
    Refusal r = refusal("application/json", "{\"a\":".getBytes());
    assertEquals(400, r.status());
    assertEquals("malformed_json", r.code());
    assertEquals("malformed_json", refusal("application/json", "{\"a\":1} trailing".getBytes()).code());
  }

  @Test
  void refusesDuplicateKeys() {
    Refusal r = refusal("application/json", "{\"phone\":\"1\",\"phone\":\"2\"}".getBytes());
    assertEquals("malformed_json", r.code());
    assertTrue(r.getMessage().contains("phone"), r.getMessage());
  }

  @Test
  void refusesJsonThatIsNotAnObjectWith422() {
    for (String body : List.of("[1,2]", "\"text\"", "42", "true", "null")) {
      Refusal r = refusal("application/json", body.getBytes());
      assertEquals(422, r.status(), body);
      assertEquals("not_an_object", r.code());
    }
  }

  @Test
  void refusesInvalidUtf8() {
    byte[] body = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    Refusal r = refusal("application/json", body);
    assertEquals(400, r.status());
    assertEquals("invalid_utf8", r.code());
    // An encoded surrogate half (CESU-8) is not UTF-8 either.
    byte[] surrogate = {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'};
    assertEquals("invalid_utf8", refusal("application/json", surrogate).code());
  }

  @Test
  void refusesDeepNestingWithItsOwnCode() {
    String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    Refusal r = refusal("application/json", deep.getBytes());
    assertEquals(400, r.status());
    assertEquals("nesting_too_deep", r.code());
    // Exactly the limit is still read: the top-level object is level 1.
    String atLimit = "{\"a\":" + "[".repeat(PayloadParser.MAX_DEPTH - 1) + "]".repeat(PayloadParser.MAX_DEPTH - 1) + "}";
    assertTrue(json(atLimit).containsKey("a"));
    String overLimit = "{\"a\":" + "[".repeat(PayloadParser.MAX_DEPTH) + "]".repeat(PayloadParser.MAX_DEPTH) + "}";
    assertEquals("nesting_too_deep", refusal("application/json", overLimit.getBytes()).code());
  }

  @Test
  void refusesNumbersTooLongOrTooLargeToWriteOut() {
    for (String number : List.of("9".repeat(5000), "-" + "9".repeat(101), "0." + "1".repeat(200), "1e999999999",
        "1e-999999999", "1e9999999999", "1.5E+101")) {
      Refusal r = refusal("application/json", ("{\"n\":" + number + "}").getBytes());
      assertEquals(400, r.status(), number);
      assertEquals("number_out_of_range", r.code(), number);
      assertTrue(r.getMessage().contains("'n'"), r.getMessage());
    }
    assertEquals(new BigInteger("9".repeat(100)), json("{\"n\":" + "9".repeat(100) + "}").getValue("n"));
    assertEquals(new BigDecimal("1E+99"), json("{\"n\":1e99}").getValue("n"));
    assertEquals(new BigDecimal("0.000001"), json("{\"n\":1e-6}").getValue("n"));
  }

  @Test
  void refusesNulCharactersInKeysAndValues() {
    for (String body : List.of("{\"name\":\"a\\u0000b\"}", "{\"a\\u0000\":\"x\"}",
        "{\"o\":{\"list\":[\"ok\",\"\\u0000\"]}}")) {
      Refusal r = refusal("application/json", body.getBytes());
      assertEquals(400, r.status(), body);
      assertEquals("nul_character", r.code(), body);
      assertTrue(r.getMessage().contains("NUL"), r.getMessage());
      assertFalse(r.getMessage().contains("\0"), "the message itself carries no NUL");
    }
    String form = "application/x-www-form-urlencoded";
    assertEquals("nul_character", refusal(form, "name=a%00b".getBytes()).code());
    assertEquals("nul_character", refusal(form, "na%00me=x".getBytes()).code());
    assertEquals("nul_character", refusal(form, "name=a\0b".getBytes()).code());
  }

  @Test
  void refusesRawControlCharactersInJsonStringsAsMalformed() {
    byte[] rawNul = {'{', '"', 'a', '"', ':', '"', 'x', 0, 'y', '"', '}'};
    assertEquals("malformed_json", refusal("application/json", rawNul).code());
    byte[] rawNewline = {'{', '"', 'a', '"', ':', '"', 'x', '\n', 'y', '"', '}'};
    assertEquals("malformed_json", refusal("application/json", rawNewline).code());
  }

  @Test
  void refusesMoreFieldsThanTheLimitCountingNestedKeysAndListItems() {
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 10_000; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":1");
    }
    Refusal r = refusal("application/json", many.append('}').toString().getBytes());
    assertEquals(400, r.status());
    assertEquals("too_many_fields", r.code());

    String nested = "{\"a\":{\"b\":[" + "1,".repeat(PayloadParser.MAX_FIELDS) + "1]}}";
    assertEquals("too_many_fields", refusal("application/json", nested.getBytes()).code());

    StringBuilder exactly = new StringBuilder("{");
    for (int i = 0; i < PayloadParser.MAX_FIELDS; i++) {
      exactly.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":1");
    }
    assertEquals(PayloadParser.MAX_FIELDS, json(exactly.append('}').toString()).size());

    StringBuilder form = new StringBuilder();
    for (int i = 0; i < 10_000; i++) {
      form.append(i == 0 ? "" : "&").append("k").append(i).append("=1");
    }
    assertEquals("too_many_fields",
        refusal("application/x-www-form-urlencoded", form.toString().getBytes()).code());
  }

  @Test
  void refusesOverlongKeys() {
    String longKey = "k".repeat(64 * 1024);
    Refusal r = refusal("application/json", ("{\"" + longKey + "\":1}").getBytes());
    assertEquals(400, r.status());
    assertEquals("field_name_too_long", r.code());
    assertTrue(r.getMessage().length() < 200, "the message does not echo the key");
    assertEquals("field_name_too_long",
        refusal("application/x-www-form-urlencoded", (longKey + "=1").getBytes()).code());
    String atLimit = "k".repeat(PayloadParser.MAX_KEY_LENGTH);
    assertTrue(json("{\"" + atLimit + "\":1}").containsKey(atLimit));
  }

  @Test
  void decodesFlatForms() {
    JsonObject payload = PayloadParser.parse("application/x-www-form-urlencoded; charset=UTF-8",
        "name=%D0%98%D0%BC%D1%8F&phone=%2B7+999&empty=&%D0%91%D1%8E%D0%B4%D0%B6%D0%B5%D1%82=9000"
            .getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of("name", "phone", "empty", "Бюджет"), List.copyOf(payload.fieldNames()));
    assertEquals("Имя", payload.getString("name"));
    assertEquals("+7 999", payload.getString("phone"));
    assertEquals("", payload.getString("empty"));
    assertEquals("9000", payload.getString("Бюджет"));
  }

  @Test
  void refusesBadForms() {
    String form = "application/x-www-form-urlencoded";
    assertEquals("repeated_form_key", refusal(form, "a=1&a=2".getBytes()).code());
    assertEquals("malformed_form", refusal(form, "a=%G1".getBytes()).code());
    assertEquals("malformed_form", refusal(form, "a=%4".getBytes()).code());
    assertEquals("invalid_utf8", refusal(form, "a=%C3%28".getBytes()).code());
    assertEquals("empty_body", refusal(form, "&&".getBytes()).code());
  }

  @Test
  void acceptsOnlyJsonAndFormsInUtf8() {
    PayloadParser.checkContentType("application/json");
    PayloadParser.checkContentType("Application/JSON; charset=utf-8");
    PayloadParser.checkContentType("application/x-www-form-urlencoded");
    for (String type : new String[] {null, "", "text/plain", "multipart/form-data; boundary=x", "application/xml"}) {
      Refusal r = assertThrows(Refusal.class, () -> PayloadParser.checkContentType(type));
      assertEquals(415, r.status(), String.valueOf(type));
    }
    assertEquals("unsupported_charset",
        assertThrows(Refusal.class, () -> PayloadParser.checkContentType("application/json; charset=windows-1251"))
            .code());
  }

  @Test
  void refusesLoneSurrogateEscapesInKeysAndValuesButKeepsPairs() {
    // The body: "a\ud800" would be stored as "a?", a duplicate of the key before it.
    Refusal key = refusal("application/json", "{\"name\":\"x\",\"a?\":1,\"a\\ud800\":2}".getBytes());
    assertEquals(400, key.status());
    assertEquals("invalid_utf8", key.code());
    assertTrue(key.getMessage().contains("lone surrogate"), key.getMessage());
    assertEquals("invalid_utf8", refusal("application/json", "{\"name\":\"x\\udc00y\"}".getBytes()).code());
    assertEquals("invalid_utf8", refusal("application/json", "{\"name\":\"x\\ud83d\"}".getBytes()).code());
    assertEquals("invalid_utf8", refusal("application/json", "{\"l\":[\"\\ud83d\\ud83d\"]}".getBytes()).code());
    // A pair spelled as two escapes is one real character (an emoji) and is kept.
    assertEquals("😀", json("{\"name\":\"\\ud83d\\ude00\"}").getString("name"));
  }

  @Test
  void refusesSurrogatesInFormBodiesPercentEncodedOrNot() {
    String form = "application/x-www-form-urlencoded";
    // U+D800 encoded as UTF-8 (ED A0 80) is not valid UTF-8, escaped or raw.
    assertEquals("invalid_utf8", refusal(form, "name=%ED%A0%80".getBytes()).code());
    assertEquals("invalid_utf8", refusal(form, new byte[] {'a', '=', (byte) 0xED, (byte) 0xA0, (byte) 0x80}).code());
  }
}
