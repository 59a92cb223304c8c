package io.leadrelay.config;

import java.util.Locale;

/**
 * What an integration creates in Bitrix24 for a webhook: a lead (the default), or a deal with its contact, for
 * portals that work without leads ("simple CRM") or teams that want deals at once.
 */
public enum CrmTarget {
  LEAD,
  DEAL;

  /** {@code lead} or {@code deal}, any case; null for anything else. */
  public static CrmTarget named(String name) {
    if (name == null) {
      return null;
    }
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "lead" -> LEAD;
      case "deal" -> DEAL;
      default -> null;
    };
  }

  /** The configuration spelling. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
