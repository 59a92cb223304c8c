package io.leadrelay.logging;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretMaskerTest {

  @Test
  void masksEveryOccurrenceInText() {
    SecretMasker masker = new SecretMasker(Set.of("s3cr3t"));

    assertEquals("POST /webhook/bot/*** and again ***", masker.mask("POST /webhook/bot/s3cr3t and again s3cr3t"));
  }

  @Test
  void ignoresBlankSecrets() {
    SecretMasker masker = new SecretMasker(Set.of("", "  ", "code"));

    assertEquals("a b ***", masker.mask("a b code"));
  }

  @Test
  void masksALongerSecretWhole() {
    // "abc" is part of "abcdef": masking "abc" first would leave "def" of the longer secret in the log.
    SecretMasker masker = new SecretMasker(Set.of("abc", "abcdef"));

    assertEquals("*** ***", masker.mask("abcdef abc"));
  }

  @Test
  void masksKeysAndValuesAtAnyDepth() {
    SecretMasker masker = new SecretMasker(Set.of("tok3n"));
    JsonObject payload = new JsonObject()
        .put("name", "Иван tok3n 🚀")
        .put("tok3n", "key")
        .put("nested", new JsonObject().put("list", new JsonArray().add("x-tok3n-y").add(7)))
        .put("count", 12);

    JsonObject masked = masker.mask(payload);

    assertEquals(new JsonObject()
        .put("name", "Иван *** 🚀")
        .put("***", "key")
        .put("nested", new JsonObject().put("list", new JsonArray().add("x-***-y").add(7)))
        .put("count", 12), masked);
    assertEquals("Иван tok3n 🚀", payload.getString("name"), "the original is left alone");
  }

  @Test
  void masksANumberThatHoldsASecret() {
    SecretMasker masker = new SecretMasker(Set.of("424242"));

    JsonObject masked = masker.mask(new JsonObject().put("phone", 79424242000L).put("other", 1));

    assertEquals("79***000", masked.getValue("phone"));
    assertEquals(1, masked.getValue("other"));
  }

  @Test
  void keepsTheLineValidJsonWhenASecretHoldsJsonSyntax() {
    SecretMasker masker = new SecretMasker(Set.of("a\"b"));

    String line = masker.mask(new JsonObject().put("v", "x a\"b y")).encode();

    assertEquals("{\"v\":\"x *** y\"}", line);
    assertFalse(masker.reveals(line));
  }

  @Test
  void tellsWhetherTextRevealsASecret() {
    SecretMasker masker = new SecretMasker(Set.of("s3cr3t"));

    assertTrue(masker.reveals("/webhook/bot/s3cr3t"));
    assertFalse(masker.reveals("/webhook/bot/***"));
    assertFalse(new SecretMasker(Set.of()).reveals("anything"));
  }
}
