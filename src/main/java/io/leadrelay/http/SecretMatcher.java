package io.leadrelay.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Compares a presented secret with the configured one in constant time. Both sides are hashed first so that
 * neither the content nor the length of the real secret can be learnt from response timing.
 */
final class SecretMatcher {

  private final byte[] expectedDigest;

  SecretMatcher(String expected) {
    this.expectedDigest = sha256(expected);
  }

  boolean matches(String presented) {
    return presented != null && MessageDigest.isEqual(expectedDigest, sha256(presented));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
