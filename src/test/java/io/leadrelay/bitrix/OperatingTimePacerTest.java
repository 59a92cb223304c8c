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

  @Test
  void untilALeadsCostIsKnownBatchesAreNotSizedByIt() {
    pacer.observe("crm.lead.add", 400, T0.plusSeconds(60));
    assertEquals(BatchPlanner.OperatingRoom.UNLIMITED, pacer.room("crm.lead.add", T0, 0));
  }

  @Test
  void aBatchIsSizedToTheOperatingTimeLeftLessWhatIsInFlight() {
    OperatingTimePacer small = new OperatingTimePacer(48, 0.1);
    small.observeLeadCost(0.2);
    small.observe("crm.lead.add", 30, T0.plusSeconds(40));
    // Filled up to 45.6 s (the limit less half the margin): 15.6 s left is 78 leads at 0.2 s; 50 in flight take 10 s.
    assertEquals(new BatchPlanner.OperatingRoom(78, java.time.Duration.ZERO), small.room("crm.lead.add", T0, 0));
    assertEquals(new BatchPlanner.OperatingRoom(28, java.time.Duration.ZERO), small.room("crm.lead.add", T0, 50));
  }

  @Test
  void withNoRoomLeftTheBatchWaitsForTheResetThenOneLeadLearnsTheNewUsage() {
    OperatingTimePacer small = new OperatingTimePacer(48, 0.1);
    small.observeLeadCost(0.2);
    small.observe("crm.lead.add", 45.5, T0.plusSeconds(40));
    assertEquals(new BatchPlanner.OperatingRoom(0, java.time.Duration.ofSeconds(40)),
        small.room("crm.lead.add", T0, 0));
    Instant after = T0.plusSeconds(41);
    assertEquals(new BatchPlanner.OperatingRoom(1, java.time.Duration.ZERO), small.room("crm.lead.add", after, 0),
        "the oldest charges left the window: one lead goes to learn by how much");
    assertEquals(0, small.room("crm.lead.add", after, 1).leads(), "not while a lead is in flight");
    small.observe("crm.lead.add", 20.2, T0.plusSeconds(55));
    assertEquals(127, small.room("crm.lead.add", after, 0).leads(), "its answer shows the room");
  }

  @Test
  void aDearerLeadIsBelievedAtOnceACheaperOneGradually() {
    pacer.observeLeadCost(0.2);
    pacer.observeLeadCost(0.1);
    assertEquals(0.18, pacer.secondsPerLead(), 1e-9);
    pacer.observeLeadCost(0.5);
    assertEquals(0.5, pacer.secondsPerLead(), 1e-9);
    pacer.observeLeadCost(-0.3);
    assertEquals(0.5, pacer.secondsPerLead(), 1e-9, "a step back is a window moving, not a cost");
  }
}
