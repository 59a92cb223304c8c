package io.leadrelay.http;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeliveryIdsTest {

  @Test
  void idsAreUniqueUlidsThatSortByTime() {
    DeliveryIds early = new DeliveryIds(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
    DeliveryIds late = new DeliveryIds(Clock.fixed(Instant.parse("2026-01-01T00:00:00.001Z"), ZoneOffset.UTC));
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = early.next();
      assertTrue(id.matches("[0-9A-HJKMNP-TV-Z]{26}"), id);
      assertTrue(seen.add(id), "duplicate id " + id);
      assertTrue(id.compareTo(late.next()) < 0, "ids must sort by time");
    }
    assertEquals(10_000, seen.size());
  }
}
