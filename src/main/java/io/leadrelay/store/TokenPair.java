package io.leadrelay.store;

import java.time.Instant;
import java.util.Objects;

/**
 * An OAuth application's tokens for one portal: the access token calls carry (null until the first refresh when
 * only a refresh token was given) and the refresh token that gets the next pair. Both are secrets, so
 * {@link #toString()} masks them; {@code expiresAt} is informational (tokens are refreshed when Bitrix24 says they
 * expired, never on a timer) and may be null.
 */
public record TokenPair(String accessToken, String refreshToken, Instant expiresAt) {

  public TokenPair {
    Objects.requireNonNull(refreshToken, "refreshToken");
  }

  @Override
  public String toString() {
    return "TokenPair[accessToken=" + (accessToken == null ? "none" : "***") + ", refreshToken=***, expiresAt="
        + expiresAt + "]";
  }
}
