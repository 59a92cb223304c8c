package io.leadrelay.http;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * Delivery ids: 26-character ULIDs (48-bit millisecond time + 80 random bits, Crockford base32). They sort by
 * arrival time, which keeps logs and the admin listing in order, and 80 random bits make a collision between any two
 * nodes negligible without any coordination.
 */
public final class DeliveryIds {

  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public DeliveryIds(Clock clock) {
    this.clock = clock;
  }

  public DeliveryIds() {
    this(Clock.systemUTC());
  }

  public String next() {
    long time = clock.millis();
    byte[] entropy = new byte[10];
    random.nextBytes(entropy);
    char[] id = new char[26];
    for (int i = 9; i >= 0; i--) {
      id[i] = ALPHABET[(int) (time & 31)];
      time >>>= 5;
    }
    // 80 bits of entropy as 16 base32 characters.
    long high = ((entropy[0] & 0xFFL) << 32) | ((entropy[1] & 0xFFL) << 24) | ((entropy[2] & 0xFFL) << 16)
        | ((entropy[3] & 0xFFL) << 8) | (entropy[4] & 0xFFL);
    long low = ((entropy[5] & 0xFFL) << 32) | ((entropy[6] & 0xFFL) << 24) | ((entropy[7] & 0xFFL) << 16)
        | ((entropy[8] & 0xFFL) << 8) | (entropy[9] & 0xFFL);
    for (int i = 17; i >= 10; i--) {
      id[i] = ALPHABET[(int) (high & 31)];
      high >>>= 5;
    }
    for (int i = 25; i >= 18; i--) {
      id[i] = ALPHABET[(int) (low & 31)];
      low >>>= 5;
    }
    return new String(id);
  }
}
