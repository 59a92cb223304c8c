package io.leadrelay.bitrix;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OperatingTimePacerTest {

  private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");
  private final OperatingTimePacer pacer = new OperatingTimePacer(480, 0.1);

  @Test
  void aMethodWithRoomGoesAtOnce() {
    assertEquals(T0, pacer.clearAt("crm.lead.add", T0), "nothing known yet");
    pacer.observe("crm.lead.add", 120.5, T0.plusSeconds(60));
    assertEquals(T0, pacer.clearAt("crm.lead.add", T0));
  }

  @Test
  void nearTheLimitTheMethodWaitsForItsWindowToFreeUp() {
    pacer.observe("crm.lead.add", 433, T0.plusSeconds(45));
    assertEquals(T0.plusSeconds(45), pacer.clearAt("crm.lead.add", T0), "432 s is 90 % of 480 s");
    assertEquals(T0, pacer.clearAt("crm.lead.list", T0), "other methods are not held");
    assertEquals(T0.plusSeconds(50), pacer.clearAt("crm.lead.add", T0.plusSeconds(50)), "after the reset: go");
  }

  @Test
  void anOlderAnswerArrivingLateDoesNotHideTheNewerUsage() {
    pacer.observe("crm.lead.add", 470, T0.plusSeconds(30));
    pacer.observe("crm.lead.add", 300, T0.plusSeconds(30));
    assertEquals(T0.plusSeconds(30), pacer.clearAt("crm.lead.add", T0));
  }

  @Test
  void aBatchIsHeldByWhicheverOfItsMethodsBinds() {
    pacer.observe("crm.lead.add", 100, T0.plusSeconds(20));
    pacer.observe("batch", 470, T0.plusSeconds(40));
    assertEquals(T0.plusSeconds(40), pacer.clearAt(T0, "crm.lead.add", "batch"), "the batch call's own time binds");
    pacer.observe("crm.lead.add", 475, T0.plusSeconds(90));
    assertEquals(T0.plusSeconds(90), pacer.clearAt(T0, "crm.lead.add", "batch"), "now the commands' time binds");
    assertEquals(T0.plusSeconds(95), pacer.clearAt(T0.plusSeconds(95), "crm.lead.add", "batch"));
  }
}
