package io.leadrelay.store;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VertxException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.util.List;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the shared store tells an unreachable database from a refused statement, and says each change once. */
class PgAvailabilityTest {

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final PgAvailability availability = new PgAvailability("postgresql://relay:***@db:5432/leads", "hunter2");

  @BeforeEach
  void listen() {
    logged.start();
    logger().addAppender(logged);
  }

  @AfterEach
  void stop() {
    logger().detachAppender(logged);
  }

  @Test
  void anOutageIsTwoLinesHoweverManyCallsMeetIt() {
    for (int i = 0; i < 50; i++) {
      Future<Object> failed = availability.watch(() -> Future.failedFuture(
          new ConnectException("Connection refused: db/10.0.0.5:5432")));
      assertInstanceOf(StoreUnavailable.class, failed.cause());
    }
    assertTrue(availability.down());
    assertEquals("DOWN", availability.downHealth().getString("status"));
    availability.watch(() -> Future.succeededFuture(1));
    availability.watch(() -> Future.succeededFuture(2));
    assertFalse(availability.down());
    assertNull(availability.downHealth());
    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("cannot be reached (Connection refused: db/10.0.0.5:5432)"), lines.get(0));
    assertTrue(lines.get(1).contains("answers again"), lines.get(1));
  }

  @Test
  void aStragglerFromBeforeAChangeDoesNotAnnounceAnother() {
    Promise<Object> startedBeforeTheLoss = Promise.promise();
    availability.watch(startedBeforeTheLoss::future);
    availability.watch(() -> Future.failedFuture(ClosedConnectionException.INSTANCE));
    startedBeforeTheLoss.complete("late answer");
    assertTrue(availability.down(), "an answer to a call sent before the loss proves nothing");

    Promise<Object> startedWhileLost = Promise.promise();
    availability.watch(startedWhileLost::future);
    availability.watch(() -> Future.succeededFuture("back"));
    startedWhileLost.fail(new ConnectException("Connection refused"));
    assertFalse(availability.down(), "a failure of a call sent before the recovery proves nothing");
    assertEquals(2, logged.list.size(), logged.list.toString());
  }

  @Test
  void aRefusedStatementIsNotAnOutageAndTheDatabaseEndingTheSessionIs() {
    Future<Object> refused = availability.watch(() -> Future.failedFuture(
        new PgException("duplicate key value violates unique constraint", "ERROR", "23505", null)));
    assertInstanceOf(PgException.class, refused.cause());
    Future<Object> missing = availability.watch(() -> Future.failedFuture(new NoSuchElementException("No delivery")));
    assertInstanceOf(NoSuchElementException.class, missing.cause());
    assertFalse(availability.down());

    Future<Object> restart = availability.watch(() -> Future.failedFuture(
        new PgException("terminating connection due to administrator command", "FATAL", "57P01", null)));
    assertInstanceOf(StoreUnavailable.class, restart.cause());
    assertTrue(logged.list.get(0).getFormattedMessage().contains("terminating connection due to administrator"
        + " command (57P01)"), logged.list.get(0).getFormattedMessage());
  }

  @Test
  void aCallThatOnlyWaitedTooLongIsALossOnlyWhenNothingElseWasAnsweredMeanwhile() {
    // A busy database: a queued accept is given up at its deadline, and a pooled connection is not had in time,
    // while other calls are answered. The callers fail as unavailable, but the node is not taken for cut off.
    Promise<Object> queued = Promise.promise();
    Future<Object> withdrawn = availability.watch(queued::future);
    Promise<Object> waitingForAConnection = Promise.promise();
    Future<Object> noConnection = availability.watch(waitingForAConnection::future);
    availability.watch(() -> Future.succeededFuture("another call answered"));
    queued.fail(StoreUnavailable.waited("the database took no new work in time: not stored"));
    waitingForAConnection.fail(new VertxException("Timeout waiting for connection"));
    assertInstanceOf(StoreUnavailable.class, withdrawn.cause());
    assertInstanceOf(StoreUnavailable.class, noConnection.cause());
    assertFalse(availability.down(), "busy, not lost");
    assertEquals(List.of(), logged.list, "no loss announced");

    // A silent one: the same waits with no answer to anything since they began are a loss.
    Promise<Object> silent = Promise.promise();
    availability.watch(silent::future);
    silent.fail(StoreUnavailable.waited("the database took no new work in time: not stored"));
    assertTrue(availability.down(), "nothing answered since the call began");
  }

  @Test
  void aCallFailedByTheReplacementOfADeadPoolIsNotAnAnswer() {
    availability.watch(() -> Future.failedFuture(new ConnectException("Connection refused")));
    availability.watch(() -> Future.failedFuture(new VertxException("Pool closed", true)));
    assertTrue(availability.down(), "a call failed because its pool was closed proves nothing about the database");
    assertEquals(1, logged.list.size(), logged.list.toString());
  }

  @Test
  void aDriverEchoingThePasswordIsMasked() {
    availability.watch(() -> Future.failedFuture(new ConnectException("login hunter2 refused")));
    String line = logged.list.get(0).getFormattedMessage();
    assertFalse(line.contains("hunter2"), line);
    assertTrue(line.contains("login *** refused"), line);
  }

  private static Logger logger() {
    return (Logger) LoggerFactory.getLogger(PgDeliveryStore.class);
  }
}
