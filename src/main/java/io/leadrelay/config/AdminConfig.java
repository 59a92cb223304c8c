package io.leadrelay.config;

/** The admin API: enabled only when a token is set; callers send {@code Authorization: Bearer <token>}. */
public record AdminConfig(String token) {

  public boolean enabled() {
    return token != null;
  }

  @Override
  public String toString() {
    return "AdminConfig[token=" + (enabled() ? "***" : "none") + "]";
  }
}
