package io.leadrelay.http;

import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.SubscriberText;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The admin API's delivery filter from a query string: {@code state}, {@code integration}, {@code from} and
 * {@code to} (ISO-8601 instants, e.g. 2026-11-30T09:00:00Z; from inclusive, to exclusive), {@code q} (a phone,
 * e-mail, name or delivery id), plus the page's {@code limit} and {@code before}. A mistake is refused with one
 * sentence, as {@link DeliveryQuery} does.
 */
record DeliverySearch(DeliveryFilter filter, int limit) {

  /** Longer than any phone, e-mail, name or id an operator types. */
  static final int MAX_QUERY = 200;
  private static final int MAX_INTEGRATION = 100;
  /**
   * The instants a search may name. Instant.parse takes years up to a billion, which neither store can hold (SQLite
   * keeps epoch milliseconds, PostgreSQL's timestamptz ends in 294276): such a date must be the caller's mistake, a
   * 400, not a store failure answered as 503.
   */
  private static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

  interface Params {
    String get(String name);
  }

  static DeliverySearch parse(Params params) {
    DeliveryQuery page = DeliveryQuery.parse(params.get("state"), params.get("limit"), params.get("before"));
    return new DeliverySearch(filter(page.state(), params).before(page.before()), page.limit());
  }

  /** The filter of a bulk replay: the same parameters, with the state DEAD or PENDING only. */
  static DeliveryFilter replayFilter(Params params) {
    return filter(DeliveryQuery.replayableState(params.get("state")), params);
  }

  private static DeliveryFilter filter(DeliveryState state, Params params) {
    String integration = blankToNull(params.get("integration"));
    if (integration != null && integration.length() > MAX_INTEGRATION) {
      throw new IllegalArgumentException("integration is longer than any integration name.");
    }
    Instant from = instant("from", params.get("from"));
    Instant to = instant("to", params.get("to"));
    if (from != null && to != null && !from.isBefore(to)) {
      throw new IllegalArgumentException("from must be before to.");
    }
    String q = blankToNull(params.get("q"));
    if (q != null && q.length() > MAX_QUERY) {
      throw new IllegalArgumentException("q must be at most " + MAX_QUERY + " characters: a phone, an e-mail, a name"
          + " or a delivery id.");
    }
    return new DeliveryFilter(state, integration, from, to, SubscriberText.needle(q), null);
  }

  private static Instant instant(String name, String text) {
    String value = blankToNull(text);
    if (value == null) {
      return null;
    }
    Instant instant;
    try {
      instant = Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(name + " must be an ISO-8601 instant such as 2026-11-30T09:00:00Z, got '"
          + PayloadParser.abbreviate(value) + "'.");
    }
    if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
      throw new IllegalArgumentException(name + " must be an instant between 1970 and 9999, got '"
          + PayloadParser.abbreviate(value) + "'.");
    }
    return instant;
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text.trim();
  }
}
