package io.leadrelay.bitrix;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrivalStreamTest {

  private static final Instant T0 = Instant.parse("2026-11-30T08:00:00Z");
  private final ArrivalStream stream = new ArrivalStream(Duration.ofMillis(50));

  @Test
  void aLoneLeadIsNoStream() {
    assertFalse(stream.growing(T0), "nothing arrived");
    stream.arrived(T0);
    assertFalse(stream.growing(T0));
    stream.arrived(T0.plusSeconds(5));
    assertFalse(stream.growing(T0.plusSeconds(5)), "a second lead five seconds later is still alone");
    assertEquals(0, stream.perSecond(T0.plusSeconds(5)));
  }

  @Test
  void leadsCloseTogetherAreAStreamUntilTheyStop() {
    stream.arrived(T0.minusSeconds(10));
    for (int i = 0; i <= 10; i++) {
      stream.arrived(T0.plusMillis(2L * i));
    }
    Instant last = T0.plusMillis(20);
    assertTrue(stream.growing(last));
    assertEquals(500, stream.perSecond(last), 1, "one lead every 2 ms; the lead ten seconds earlier is not counted");
    assertEquals(11, stream.count(last));
    assertEquals(Duration.ofMillis(30), stream.untilEnded(last.plusMillis(20)));
    assertTrue(stream.growing(last.plusMillis(50)));
    assertFalse(stream.growing(last.plusMillis(51)), "nothing for longer than the gap: the broadcast ended");
    assertEquals(Duration.ZERO, stream.untilEnded(last.plusMillis(51)));
    assertEquals(0, stream.count(last.plusMillis(51)));
  }
}
