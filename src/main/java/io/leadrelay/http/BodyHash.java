package io.leadrelay.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Identifies a webhook body for one integration, so that BotHelp sending the very same body again (a retry after a
 * timeout, a double click in a flow) is recognised as the same delivery. The raw bytes are hashed: two bodies that
 * differ in any byte are different webhooks.
 */
final class BodyHash {

  private BodyHash() {
  }

  static String of(String integration, byte[] body) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(integration.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      return HexFormat.of().formatHex(digest.digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
