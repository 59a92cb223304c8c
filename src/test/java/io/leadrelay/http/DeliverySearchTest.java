package io.leadrelay.http;

import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin API's delivery filter, read from query parameters: what is accepted and the sentence for a mistake. */
class DeliverySearchTest {

  private static DeliverySearch parse(Map<String, String> params) {
    return DeliverySearch.parse(params::get);
  }

  @Test
  void readsEveryParameter() {
    DeliverySearch search = parse(Map.of("state", "dead", "integration", " main ", "from", "2026-11-30T09:00:00Z",
        "to", "2026-11-30T10:00:00Z", "q", "+7 (999) 123-45-67", "limit", "20"));
    DeliveryFilter filter = search.filter();
    assertEquals(DeliveryState.DEAD, filter.state());
    assertEquals("main", filter.integration());
    assertEquals(Instant.parse("2026-11-30T09:00:00Z"), filter.receivedFrom());
    assertEquals(Instant.parse("2026-11-30T10:00:00Z"), filter.receivedTo());
    assertEquals("9991234567", filter.needle(), "a Russian number's last ten digits, however it was written");
    assertEquals(20, search.limit());
    assertTrue(parse(Map.of("state", "DEAD")).filter().onlyState());
  }

  @Test
  void textIsLowerCasedAndBlankIsNoFilter() {
    assertEquals("иван", parse(Map.of("q", " ИВАН ")).filter().needle());
    assertEquals("ivan@mail.ru", parse(Map.of("q", "Ivan@Mail.RU")).filter().needle());
    assertNull(parse(Map.of("q", "  ")).filter().needle());
  }

  @Test
  void mistakesAreRefusedWithASentence() {
    assertEquals("from must be an ISO-8601 instant such as 2026-11-30T09:00:00Z, got 'yesterday'.",
        assertThrows(IllegalArgumentException.class, () -> parse(Map.of("from", "yesterday"))).getMessage());
    assertEquals("from must be before to.", assertThrows(IllegalArgumentException.class, () -> parse(Map.of(
        "from", "2026-11-30T10:00:00Z", "to", "2026-11-30T10:00:00Z"))).getMessage());
    assertThrows(IllegalArgumentException.class, () -> parse(Map.of("q", "x".repeat(201))));
    assertThrows(IllegalArgumentException.class, () -> DeliverySearch.replayFilter(
        Map.of("state", "DELIVERED", "q", "x")::get), "a delivered lead is never replayed");
    assertEquals(DeliveryState.DEAD, DeliverySearch.replayFilter(Map.of("state", "DEAD", "q", "x")::get).state());
  }

  @Test
  void aDateNoStoreCanHoldIsTheCallersMistake() {
    assertEquals("from must be an instant between 1970 and 9999, got '+1000000000-01-01T00:00:00Z'.",
        assertThrows(IllegalArgumentException.class, () -> parse(Map.of("from", "+1000000000-01-01T00:00:00Z")))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> parse(Map.of("to", "-1000000000-01-01T00:00:00Z")));
    assertThrows(IllegalArgumentException.class, () -> DeliverySearch.replayFilter(
        Map.of("state", "DEAD", "from", "+10000-01-01T00:00:00Z")::get));
    assertEquals(Instant.parse("9999-12-31T00:00:00Z"), parse(Map.of("to", "9999-12-31T00:00:00Z")).filter()
        .receivedTo());
  }
}
