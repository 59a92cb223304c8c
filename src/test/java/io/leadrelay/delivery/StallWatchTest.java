package io.leadrelay.delivery;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StallWatchTest {

  private static final Instant START = Instant.parse("2026-01-10T10:00:00Z");
  private final StallWatch watch = new StallWatch(Duration.ofMinutes(5), START);

  @Test
  void nothingWaitingIsNeverStalled() {
    assertEquals(Optional.empty(), watch.stalledSince(null, START.plus(Duration.ofDays(1))));
  }

  @Test
  void aBacklogWithNoDeliveryForTheThresholdIsStalledSinceTheLaterOfArrivalAndLastDelivery() {
    Instant arrived = START.plusSeconds(60);
    assertEquals(Optional.empty(), watch.stalledSince(arrived, arrived.plusSeconds(299)));
    assertEquals(Optional.of(arrived), watch.stalledSince(arrived, arrived.plusSeconds(300)));
  }

  @Test
  void aBacklogFoundAtStartGetsTheWholeThresholdToMove() {
    Instant longAgo = START.minus(Duration.ofHours(3));
    assertEquals(Optional.empty(), watch.stalledSince(longAgo, START.plusSeconds(299)));
    assertEquals(Optional.of(START), watch.stalledSince(longAgo, START.plusSeconds(300)));
  }

  @Test
  void deliveriesKeepALongBacklogFromCountingAsStalled() {
    Instant oldest = START.plusSeconds(10);
    watch.progressed(START.plusSeconds(400));
    assertEquals(Optional.empty(), watch.stalledSince(oldest, START.plusSeconds(650)));
    assertEquals(Optional.of(START.plusSeconds(400)), watch.stalledSince(oldest, START.plusSeconds(700)));
  }

  @Test
  void aLeadAfterAnIdleSpellStartsTheClockAfresh() {
    Instant afterIdle = START.plus(Duration.ofHours(6));
    assertEquals(Optional.empty(), watch.stalledSince(afterIdle, afterIdle.plusSeconds(1)));
  }
}
