package io.leadrelay.config;

import java.time.Duration;
import java.util.Locale;

/**
 * What an integration does when a webhook's subscriber is already in the CRM (same phone number or e-mail): its
 * {@code repeat} policy, and how old ({@code repeatLookupDays}, by the record's last change) a match may be to
 * count. Zero days: a match of any age counts.
 */
public record RepeatConfig(Policy policy, int lookupDays) {

  /** Today's behaviour: a new lead every time, nothing looked up. */
  public static final RepeatConfig NEW = new RepeatConfig(Policy.NEW, 0);
  public static final int DEFAULT_LOOKUP_DAYS = 30;

  public enum Policy {
    /** A new lead every time. */
    NEW,
    /** A timeline comment on the matching lead (or contact) instead of a lead. */
    COMMENT,
    /** The matching lead's empty fields filled, and the comment. */
    UPDATE,
    /** A new lead bound to the matching contact (CONTACT_ID): Bitrix24's own "repeat lead". */
    LINK;

    /** The policy named {@code name} (any case), or null for none. */
    static Policy named(String name) {
      for (Policy policy : values()) {
        if (policy.name().equalsIgnoreCase(name.trim())) {
          return policy;
        }
      }
      return null;
    }

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Whether webhooks of this integration are matched against the CRM before anything is created. */
  public boolean looksUp() {
    return policy != Policy.NEW;
  }

  /** How old a match may be, or null for any age. */
  public Duration window() {
    return lookupDays == 0 ? null : Duration.ofDays(lookupDays);
  }
}
