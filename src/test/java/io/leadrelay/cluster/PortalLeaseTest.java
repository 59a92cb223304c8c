package io.leadrelay.cluster;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortalLeaseTest {

  private static final Duration LEASE = Duration.ofSeconds(10);

  private long now = 1_000_000_000L;
  private final PortalLease lease = new PortalLease("b24-1.bitrix24.ru", LEASE, () -> now);

  private void advance(Duration by) {
    now += by.toNanos();
  }

  @Test
  void renewsFourTimesALeaseAndActsForThreeQuartersOfItAfterSending() {
    assertEquals(Duration.ofMillis(2500), PortalLease.renewEvery(LEASE));
    assertEquals(Duration.ofMillis(7500), PortalLease.actingWindow(LEASE));
  }

  @Test
  void aGrantedLeaseMakesThisNodeOwnerUntilThreeQuartersOfTheLeaseAfterTheRequestWasSent() {
    long sent = lease.begin().getAsLong();
    advance(Duration.ofSeconds(2)); // a slow answer: the term still counts from the sending
    assertEquals(PortalLease.Change.ACQUIRED, lease.granted(sent, 7));
    assertTrue(lease.isOwner());
    assertEquals(OptionalLong.of(7), lease.epoch());

    advance(Duration.ofMillis(5499));
    assertTrue(lease.isOwner());
    advance(Duration.ofMillis(1));
    assertFalse(lease.isOwner(), "7.5 s after sending, whether or not a timer noticed");
    assertEquals(OptionalLong.empty(), lease.epoch());
    assertEquals(PortalLease.Change.LOST, lease.expire());
    assertEquals(PortalLease.Change.NONE, lease.expire());
  }

  @Test
  void renewalsUnderTheSameEpochExtendTheTermWithoutAnEvent() {
    lease.granted(lease.begin().getAsLong(), 3);
    for (int i = 0; i < 10; i++) {
      advance(PortalLease.renewEvery(LEASE));
      assertEquals(PortalLease.Change.NONE, lease.granted(lease.begin().getAsLong(), 3));
      assertEquals(PortalLease.Change.NONE, lease.expire());
    }
    assertTrue(lease.isOwner());
  }

  @Test
  void twoFailedRenewalsAreSurvivedAndTheThirdDeadlineEndsTheTerm() {
    lease.granted(lease.begin().getAsLong(), 1);
    advance(PortalLease.renewEvery(LEASE));
    lease.begin();
    assertEquals(PortalLease.Change.NONE, lease.failed());
    advance(PortalLease.renewEvery(LEASE));
    lease.begin();
    assertEquals(PortalLease.Change.NONE, lease.failed());
    assertTrue(lease.isOwner());
    advance(PortalLease.renewEvery(LEASE));
    lease.begin();
    assertEquals(PortalLease.Change.LOST, lease.failed());
    assertFalse(lease.isOwner());
  }

  @Test
  void aRenewalStillUnderWayIsNotDoubled() {
    assertTrue(lease.begin().isPresent());
    assertEquals(OptionalLong.empty(), lease.begin());
    lease.refused();
    assertTrue(lease.begin().isPresent());
  }

  @Test
  void anotherNodeHoldingTheLeaseEndsThisNodesTerm() {
    lease.granted(lease.begin().getAsLong(), 4);
    assertEquals(PortalLease.Change.LOST, lease.refused());
    assertFalse(lease.isOwner());
    assertEquals(PortalLease.Change.NONE, lease.refused(), "a standby node refused again: nothing to tell");
  }

  @Test
  void aHigherEpochIsANewTermAndReleaseStopsActingAtOnce() {
    lease.granted(lease.begin().getAsLong(), 4);
    assertEquals(PortalLease.Change.NEW_TERM, lease.granted(lease.begin().getAsLong(), 5));
    assertEquals(OptionalLong.of(5), lease.epoch());
    assertEquals(PortalLease.Change.LOST, lease.release());
    assertFalse(lease.isOwner());
    assertEquals(PortalLease.Change.NONE, lease.release());
  }

  @Test
  void aRenewalAnsweredAfterTheNodeGaveThePortalUpDoesNotMakeItOwnerAgain() {
    lease.granted(lease.begin().getAsLong(), 2);
    long sent = lease.begin().getAsLong();
    assertEquals(PortalLease.Change.LOST, lease.release());
    assertEquals(PortalLease.Change.NONE, lease.granted(sent, 2));
    assertFalse(lease.isOwner());
    assertEquals(OptionalLong.empty(), lease.begin(), "no more attempts once given up");
  }

  @Test
  void aLeaseTakenAgainAfterItsTermRanOutIsAcquiredAfresh() {
    lease.granted(lease.begin().getAsLong(), 1);
    advance(LEASE);
    assertEquals(PortalLease.Change.LOST, lease.expire());
    assertEquals(PortalLease.Change.ACQUIRED, lease.granted(lease.begin().getAsLong(), 2));
  }
}
