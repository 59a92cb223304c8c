package io.leadrelay.http;

import io.leadrelay.store.DeliveryState;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which page of deliveries an operator asked for: an optional state, a page size and the id to continue below.
 * Parsed from text the same way for the admin API's query string and the command line's options, so both refuse
 * the same mistakes with the same sentence.
 */
public record DeliveryQuery(DeliveryState state, int limit, String before) {

  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 500;

  /** Delivery ids are ULIDs: 26 characters of Crockford base32. */
  private static final Pattern DELIVERY_ID = Pattern.compile("[0-9A-HJKMNP-TV-Z]{26}");

  /**
   * @param state  PENDING, DELIVERED or DEAD (any case), or null/blank for all
   * @param limit  1 to 500, or null/blank for 50
   * @param before a delivery id (the previous page's {@code next}), or null/blank for the newest
   * @throws IllegalArgumentException with a sentence for the operator
   */
  public static DeliveryQuery parse(String state, String limit, String before) {
    return new DeliveryQuery(state(state), limit(limit), before(before));
  }

  /** A state name in any case; null for null or blank. */
  public static DeliveryState state(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return DeliveryState.valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("state must be PENDING, DELIVERED or DEAD, got '"
          + PayloadParser.abbreviate(text) + "'.");
    }
  }

  /** A state that can be replayed in bulk: DEAD or PENDING, never DELIVERED (that would make second leads). */
  public static DeliveryState replayableState(String text) {
    DeliveryState state = text == null || text.isBlank() ? null : state(text);
    if (state != DeliveryState.DEAD && state != DeliveryState.PENDING) {
      throw new IllegalArgumentException("state must be DEAD or PENDING to replay deliveries, got "
          + (state == null ? "none" : state.name())
          + (state == DeliveryState.DELIVERED ? ": replaying delivered ones would create second leads." : "."));
    }
    return state;
  }

  private static int limit(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT_LIMIT;
    }
    try {
      int limit = Integer.parseInt(text.trim());
      if (limit >= 1 && limit <= MAX_LIMIT) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // Reported below with the same sentence as an out-of-range number.
    }
    throw new IllegalArgumentException("limit must be a whole number from 1 to " + MAX_LIMIT + ", got '"
        + PayloadParser.abbreviate(text) + "'.");
  }

  private static String before(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String id = text.trim().toUpperCase(Locale.ROOT);
    if (!isDeliveryId(id)) {
      throw new IllegalArgumentException("before must be a delivery id (26 characters, as in \"next\"), got '"
          + PayloadParser.abbreviate(text) + "'.");
    }
    return id;
  }

  public static boolean isDeliveryId(String text) {
    return text != null && DELIVERY_ID.matcher(text).matches();
  }
}
