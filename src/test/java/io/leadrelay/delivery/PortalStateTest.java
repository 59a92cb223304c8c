package io.leadrelay.delivery;

import io.leadrelay.bitrix.BitrixError;
import io.leadrelay.bitrix.ErrorClass;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortalStateTest {

  private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");
  private static final BitrixError NO_AUTH = new BitrixError(ErrorClass.PORTAL_FAILURE, 401, "NO_AUTH_FOUND",
      "Wrong authorization data");
  private static final BitrixError LIMIT = new BitrixError(ErrorClass.REFUSED, 503, "QUERY_LIMIT_EXCEEDED",
      "Too many requests");

  private final PortalState state = new PortalState(Duration.ofSeconds(1), Duration.ofSeconds(30),
      Duration.ofMinutes(10));

  @Test
  void refusalsHoldThePortalForGrowingTimesAndASuccessResetsThem() {
    assertEquals(T0.plusSeconds(1), state.refused(LIMIT, T0));
    assertTrue(state.held(T0));
    assertFalse(state.held(T0.plusSeconds(1)));
    assertEquals(T0.plusSeconds(1), state.refused(LIMIT, T0), "a request sent before the hold: same refusal");
    Instant t = T0.plusSeconds(1);
    assertEquals(t.plusSeconds(2), state.refused(LIMIT, t), "refused again after the hold: twice as long");
    t = t.plusSeconds(2);
    assertEquals(t.plusSeconds(4), state.refused(LIMIT, t));
    for (int i = 0; i < 10; i++) {
      t = state.heldUntil();
      state.refused(LIMIT, t);
    }
    assertEquals(t.plusSeconds(60), state.heldUntil(), "capped at a minute");
    state.succeeded();
    t = state.heldUntil();
    assertEquals(t.plusSeconds(1), state.refused(LIMIT, t));
  }

  @Test
  void anOperationTimeLimitHoldsUntilTheResetTimeBitrixNames() {
    Instant reset = T0.plus(Duration.ofMinutes(7));
    BitrixError blocked = new BitrixError(ErrorClass.REFUSED, 429, "OPERATION_TIME_LIMIT", "Method is blocked", reset);
    assertEquals(reset, state.refused(blocked, T0));
  }

  @Test
  void aPausedPortalLetsOneProbeThroughAtATimeWithDoublingIntervals() {
    assertTrue(state.pause(NO_AUTH, T0), "the first failure pauses an active portal");
    assertTrue(state.paused());
    assertFalse(state.tryStartProbe(T0.plusSeconds(29)));
    assertEquals(T0.plusSeconds(30), state.nextProbeAt(T0.plusSeconds(1)));
    assertTrue(state.tryStartProbe(T0.plusSeconds(30)));
    assertFalse(state.tryStartProbe(T0.plusSeconds(31)), "one probe at a time");

    assertFalse(state.pause(NO_AUTH, T0.plusSeconds(31)), "a failed probe is not a new pause");
    assertEquals(T0.plusSeconds(31 + 60), state.nextProbeAt(T0.plusSeconds(31)));
    for (int i = 0; i < 10; i++) {
      state.pause(NO_AUTH, T0);
    }
    assertEquals(T0.plus(Duration.ofMinutes(10)), state.nextProbeAt(T0), "capped");
    assertEquals("paused", state.toJson(T0).getString("state"));

    assertTrue(state.succeeded(), "a success resumes the portal");
    assertFalse(state.paused());
    assertEquals("active", state.toJson(T0).getString("state"));
  }

  @Test
  void resumeNowLetsTheNextDeliveryThroughAtOnceAsTheProbe() {
    assertFalse(state.probeNow(T0), "an active portal has nothing to resume");
    state.pause(NO_AUTH, T0);
    assertFalse(state.tryStartProbe(T0.plusSeconds(5)), "the probe is 30 s away");
    assertTrue(state.probeNow(T0.plusSeconds(5)));
    assertTrue(state.paused(), "still paused until the probe gets through");
    assertTrue(state.tryStartProbe(T0.plusSeconds(5)), "the probe goes now");
    assertFalse(state.tryStartProbe(T0.plusSeconds(5)), "one probe at a time");
    state.pause(NO_AUTH, T0.plusSeconds(6));
    assertEquals(T0.plusSeconds(66), state.nextProbeAt(T0.plusSeconds(6)), "a failed probe: the usual doubling");
    assertTrue(state.probeNow(T0.plusSeconds(7)));
    assertTrue(state.tryStartProbe(T0.plusSeconds(7)));
    assertTrue(state.succeeded(), "its success resumes the portal");
  }
}
