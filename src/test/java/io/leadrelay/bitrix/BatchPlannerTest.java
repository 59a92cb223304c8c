package io.leadrelay.bitrix;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When a partial batch goes and how big a batch may be, on the standard plan (bucket 50 at 2/s, batches of 50). */
class BatchPlannerTest {

  private final BatchPlanner planner = new BatchPlanner(50, 50, 2);
  /** A broadcast arriving at about 800 leads a second, the last lead a moment ago. */
  private static final BatchPlanner.Arriving BROADCAST = new BatchPlanner.Arriving(true, Duration.ofMillis(49), 40, 800);
  private static final BatchPlanner.OperatingRoom PLENTY = BatchPlanner.OperatingRoom.UNLIMITED;

  @Test
  void aLoneLeadAtIdleGoesAtOnce() {
    assertEquals(BatchPlan.send(1), planner.plan(1, Duration.ZERO, BatchPlanner.Arriving.NONE, 0, PLENTY));
  }

  @Test
  void aFullBatchGoesAtOnce() {
    assertEquals(BatchPlan.send(50), planner.plan(50, Duration.ZERO, BROADCAST, 49, PLENTY));
  }

  @Test
  void whileABroadcastArrivesAPartialBatchWaitsToFillEvenWithAnEmptyBucket() {
    // 800 leads a second need 16 full batches a second against 2 permits: the bucket will bind, so every permit
    // is worth 50 leads even now.
    BatchPlan plan = planner.plan(3, Duration.ofMillis(2), BROADCAST, 0, PLENTY);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(50)), plan, "asks again when the stream would have ended");
  }

  @Test
  void aBroadcastsSecondLeadWaitsToFillABatch() {
    // Its first lead went alone (it cannot be told from a lone lead); sent alone, the second would cost the
    // broadcast a whole request, half a second of drain once the bucket binds. Whether the first was answered or
    // not, and however fast the broadcast comes (a millisecond apart, or 10 ms on a loaded machine).
    for (double perSecond : new double[] {1000, 200, 98}) {
      BatchPlanner.Arriving second = new BatchPlanner.Arriving(true, Duration.ofMillis(149), 2, perSecond);
      assertEquals(BatchPlan.waitFor(Duration.ofMillis(150)), planner.plan(1, Duration.ZERO, second, 1, PLENTY),
          perSecond + " a second");
    }
    BatchPlanner.Arriving later = new BatchPlanner.Arriving(true, Duration.ofMillis(149), 8, 800);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(150)), planner.plan(7, Duration.ofMillis(8), later, 1, PLENTY));
  }

  @Test
  void aBroadcastsFirstLeadsWaitEvenWhileTheyStillLookSlow() {
    // Measured at idle (DrainBenchmark): the first webhook's durable commit carried it alone, the second came one
    // commit (tens of milliseconds) later, read as 25-40 a second, "room to spare", and went alone. Until a few
    // leads have come the rate says nothing: they wait for the batch, at most the stream's gap.
    for (int count = 2; count < BatchPlanner.RATE_KNOWN_AFTER; count++) {
      BatchPlanner.Arriving early = new BatchPlanner.Arriving(true, Duration.ofMillis(120), count, 25);
      assertEquals(BatchPlan.waitFor(Duration.ofMillis(121)), planner.plan(count - 1, Duration.ofMillis(30), early,
          1, PLENTY), count + " leads so far");
    }
    // A real trickle is known as one once enough have come, and then goes at once (aTrickleWithRoomToSpareGoesAtOnce).
    BatchPlanner.Arriving known = new BatchPlanner.Arriving(true, Duration.ofMillis(120), BatchPlanner.RATE_KNOWN_AFTER,
        25);
    assertEquals(BatchPlan.send(4), planner.plan(4, Duration.ofMillis(30), known, 1, PLENTY));
  }

  @Test
  void twoSubscribersAtOnceTheSecondGoesWhenTheStreamEnds() {
    BatchPlanner.Arriving second = new BatchPlanner.Arriving(true, Duration.ofMillis(50), 2, 60);
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(51)), planner.plan(1, Duration.ZERO, second, 1, PLENTY));
    assertEquals(BatchPlan.send(1), planner.plan(1, Duration.ofMillis(150), BatchPlanner.Arriving.NONE, 1, PLENTY));
  }

  @Test
  void aPartialBatchWaitsNoLongerThanOnePermitsTime() {
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(11)),
        planner.plan(30, Duration.ofMillis(490), BROADCAST, 20, PLENTY));
    assertEquals(BatchPlan.send(30), planner.plan(30, Duration.ofMillis(500), BROADCAST, 20, PLENTY));
  }

  @Test
  void theTailOfABroadcastGoesOnceNothingMoreArrives() {
    assertEquals(BatchPlan.send(17), planner.plan(17, Duration.ofMillis(60), BatchPlanner.Arriving.NONE, 10, PLENTY));
    assertEquals(BatchPlan.send(17), planner.plan(17, Duration.ofSeconds(3), BatchPlanner.Arriving.NONE, 49, PLENTY),
        "a tail that waited in the backlog goes as soon as it has a permit");
  }

  @Test
  void withTheBucketOverHalfFullAPartialBatchWaitsOutAStallInTheArrivals() {
    // No lead for 200 ms (the stream counts as ended), but the bucket is busy: the broadcast may only have stalled.
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(301)),
        planner.plan(12, Duration.ofMillis(200), BatchPlanner.Arriving.NONE, 30, PLENTY));
    assertEquals(BatchPlan.send(12), planner.plan(12, Duration.ofMillis(500), BatchPlanner.Arriving.NONE, 30, PLENTY));
  }

  @Test
  void aTrickleWithRoomToSpareGoesAtOnce() {
    // 20 leads a second fill less than half a permit a second in full batches, and the bucket is nearly empty.
    BatchPlanner.Arriving trickle = new BatchPlanner.Arriving(true, Duration.ofMillis(10), 40, 20);
    assertEquals(BatchPlan.send(2), planner.plan(2, Duration.ZERO, trickle, 5, PLENTY));
    assertEquals(BatchPlan.waitFor(Duration.ofMillis(11)), planner.plan(2, Duration.ZERO, trickle, 30, PLENTY),
        "with the bucket over half full, the permit is worth waiting for");
  }

  @Test
  void aBatchCarriesNoMoreLeadsThanTheOperatingTimeLeftCanTake() {
    BatchPlanner.OperatingRoom room = new BatchPlanner.OperatingRoom(12, Duration.ZERO);
    assertEquals(BatchPlan.send(12), planner.plan(50, Duration.ZERO, BROADCAST, 10, room));
    assertEquals(BatchPlan.send(12), planner.plan(30, Duration.ZERO, BROADCAST, 10, room),
        "a partial batch the window cannot take more of goes: waiting would not let it carry more");
    assertEquals(BatchPlan.send(5), planner.plan(5, Duration.ZERO, BatchPlanner.Arriving.NONE, 10, room));
  }

  @Test
  void withNoOperatingTimeLeftTheRequestWaitsForTheWindowToFree() {
    BatchPlanner.OperatingRoom none = new BatchPlanner.OperatingRoom(0, Duration.ofSeconds(7));
    assertEquals(BatchPlan.waitFor(Duration.ofSeconds(7)), planner.plan(50, Duration.ZERO, BROADCAST, 0, none));
  }
}
