package io.leadrelay.bitrix;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When a partial batch goes and how big a batch may be, on the standard plan (bucket 50 at 2/s, batches of 50). */
class BatchPlannerTest {

  private final BatchPlanner planner = new BatchPlanner(50, 2, 50, 2);
  /** A broadcast arriving at about 800 leads a second, the last lead a moment ago. */
  private static final BatchPlanner.Arriving BROADCAST = new BatchPlanner.Arriving(true, Duration.ofMillis(49), 40, 800);
  private static final BatchPlanner.OperatingRoom PLENTY = BatchPlanner.OperatingRoom.UNLIMITED;

  @Test
  void aLoneLeadAtIdleGoesAtOnce() {
    assertEquals(BatchPlan.send(1), planner.plan(1, Duration.ZERO, BatchPlanner.Arriving.NONE, 0, 0, PLENTY));
  }

  @Test
  void aFullBatchGoesAtOnce() {
    assertEquals(BatchPlan.send(50), planner.plan(50, Duration.ZERO, BROADCAST, 49, 0, PLENTY));
  }

  @Test
  void whileABroadcastArrivesAPartialBatchWaitsToFillEvenWithAnEmptyBucket() {
    // 800 leads a second need 16 full batches a second against 2 permits: the bucket will bind, so every permit
    // is worth 50 leads even now.
    BatchPlan plan = planner.plan(3, Duration.ofMillis(2), BROADCAST, 0, 0, PLENTY);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(50)), plan, "asks again when the stream would have ended");
  }

  @Test
  void theLeadsRightBehindALoneLeadWaitForItsAnswerThenJoinABatch() {
    // A broadcast's second lead comes a millisecond after its first: while the first is in flight it waits (sent
    // alone, it would cost the broadcast a whole request)...
    BatchPlanner.Arriving second = new BatchPlanner.Arriving(true, Duration.ofMillis(149), 2, 1000);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(150)), planner.plan(1, Duration.ZERO, second, 1, 1, PLENTY));
    // ... and once the first is answered, the stream has shown its rate: the leads behind it wait to fill a batch.
    BatchPlanner.Arriving later = new BatchPlanner.Arriving(true, Duration.ofMillis(149), 8, 800);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(150)), planner.plan(7, Duration.ofMillis(8), later, 1, 0, PLENTY));
    // A broadcast slower than the round trip (200 a second, 5 ms apart): its second lead still waits to fill.
    BatchPlanner.Arriving slower = new BatchPlanner.Arriving(true, Duration.ofMillis(149), 2, 200);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(150)), planner.plan(1, Duration.ZERO, slower, 1, 0, PLENTY));
  }

  @Test
  void theFirstLeadsOfASlowBurstGoAsTheyComeUpToTheRequestsThatMayBeOpen() {
    // Two subscribers 16 ms apart (60 a second, slower than full batches at 2 permits a second could carry).
    BatchPlanner.Arriving second = new BatchPlanner.Arriving(true, Duration.ofMillis(50), 2, 60);
    assertEquals(BatchPlan.send(1), planner.plan(1, Duration.ZERO, second, 1, 0, PLENTY));
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(51)), planner.plan(1, Duration.ZERO, second, 1, 1, PLENTY),
        "not while the first is in flight");
    BatchPlanner.Arriving third = new BatchPlanner.Arriving(true, Duration.ofMillis(50), 3, 5000);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(51)), planner.plan(1, Duration.ZERO, third, 2, 0, PLENTY));
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(51)), planner.plan(1, Duration.ZERO, second, 5, 0, PLENTY),
        "after a pause in a broadcast (the bucket no longer idle), the leads that come next wait to fill");
  }

  @Test
  void aPartialBatchWaitsNoLongerThanOnePermitsTime() {
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(11)),
        planner.plan(30, Duration.ofMillis(490), BROADCAST, 20, 0, PLENTY));
    assertEquals(BatchPlan.send(30), planner.plan(30, Duration.ofMillis(500), BROADCAST, 20, 0, PLENTY));
  }

  @Test
  void theTailOfABroadcastGoesOnceNothingMoreArrives() {
    assertEquals(BatchPlan.send(17), planner.plan(17, Duration.ofMillis(60), BatchPlanner.Arriving.NONE, 10, 0, PLENTY));
    assertEquals(BatchPlan.send(17), planner.plan(17, Duration.ofSeconds(3), BatchPlanner.Arriving.NONE, 49, 0, PLENTY),
        "a tail that waited in the backlog goes as soon as it has a permit");
  }

  @Test
  void withTheBucketOverHalfFullAPartialBatchWaitsOutAStallInTheArrivals() {
    // No lead for 200 ms (the stream counts as ended), but the bucket is busy: the broadcast may only have stalled.
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(301)),
        planner.plan(12, Duration.ofMillis(200), BatchPlanner.Arriving.NONE, 30, 0, PLENTY));
    assertEquals(BatchPlan.send(12), planner.plan(12, Duration.ofMillis(500), BatchPlanner.Arriving.NONE, 30, 0, PLENTY));
  }

  @Test
  void aTrickleWithRoomToSpareGoesAtOnce() {
    // 20 leads a second fill less than half a permit a second in full batches, and the bucket is nearly empty.
    BatchPlanner.Arriving trickle = new BatchPlanner.Arriving(true, Duration.ofMillis(10), 40, 20);
    assertEquals(BatchPlan.send(2), planner.plan(2, Duration.ZERO, trickle, 5, 0, PLENTY));
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(11)), planner.plan(2, Duration.ZERO, trickle, 30, 0, PLENTY),
        "with the bucket over half full, the permit is worth waiting for");
  }

  @Test
  void aBatchCarriesNoMoreLeadsThanTheOperatingTimeLeftCanTake() {
    BatchPlanner.OperatingRoom room = new BatchPlanner.OperatingRoom(12, Duration.ZERO);
    assertEquals(BatchPlan.send(12), planner.plan(50, Duration.ZERO, BROADCAST, 10, 0, room));
    assertEquals(BatchPlan.send(12), planner.plan(30, Duration.ZERO, BROADCAST, 10, 0, room),
        "a partial batch the window cannot take more of goes: waiting would not let it carry more");
    assertEquals(BatchPlan.send(5), planner.plan(5, Duration.ZERO, BatchPlanner.Arriving.NONE, 10, 0, room));
  }

  @Test
  void withNoOperatingTimeLeftTheRequestWaitsForTheWindowToFree() {
    BatchPlanner.OperatingRoom none = new BatchPlanner.OperatingRoom(0, Duration.ofSeconds(7));
    assertEquals(BatchPlan.waitFor(Duration.ofSeconds(7)), planner.plan(50, Duration.ZERO, BROADCAST, 0, 0, none));
  }
}
