package io.leadrelay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Whether the shared database can be reached, as the store's own calls find it: lost at the first call that fails
 * on the way to the database (refused, reset, terminated by an operator or a restart, a connection that stopped
 * answering), back at the first call that gets an answer. It says each change once in the console, so that an
 * outage is two lines however many webhooks and sweeps meet it, and turns such failures into
 * {@link StoreUnavailable} so that callers can tell them from a refused request.
 *
 * <p>A call counts only against the state it started in: a straggler from before the loss that succeeds late does
 * not announce a recovery, and one from before the recovery that fails late does not announce a new loss, so an
 * outage never flaps in the log; a call that only waited too long counts as a loss only when nothing else was answered
 * meanwhile (a busy database is not a lost one). Called from any thread.
 */
final class PgAvailability {

  private static final Logger LOG = LoggerFactory.getLogger(PgDeliveryStore.class);

  private final String database;
  private final String password;
  /** Grows at every change; a call remembers the one it started under. */
  private long generation;
  private Instant lostAt;
  private String reason;
  /** System.nanoTime() of the last answer from the database to any call. */
  private volatile long lastAnswer = System.nanoTime();

  /**
   * @param database the store as people may see it (password masked)
   * @param password never shown: masked in a reason should a driver ever echo it
   */
  PgAvailability(String database, String password) {
    this.database = database;
    this.password = password;
  }

  /** Runs a call and watches how it ends; a failure on the way to the database comes back as StoreUnavailable. */
  <T> Future<T> watch(Supplier<Future<T>> call) {
    return watch(call, null, null);
  }

  /**
   * As {@link #watch(Supplier)}; a call still unanswered after {@code patience} (scheduled on {@code vertx}) also
   * counts as a loss: a database that has gone silent fails nothing for a long time, yet webhooks are already being
   * answered 503 and readiness says DOWN, and the console must say why when it happens, not when TCP gives up.
   */
  <T> Future<T> watch(Supplier<Future<T>> call, Duration patience, Vertx vertx) {
    long started = generation();
    long startedNanos = System.nanoTime();
    Future<T> running;
    try {
      running = call.get();
    } catch (RuntimeException e) {
      running = Future.failedFuture(e);
    }
    if (patience != null && vertx != null && !running.isComplete()) {
      Future<T> watched = running;
      long timer = vertx.setTimer(Math.max(1, patience.toMillis()), id -> {
        if (!watched.isComplete() && silentSince(startedNanos)) {
          lost(started, new StoreUnavailable("no answer within " + String.format(Locale.ROOT, "%.1f",
              patience.toMillis() / 1000.0) + " s"));
        }
      });
      running.onComplete(done -> vertx.cancelTimer(timer));
    }
    return running.transform(done -> {
      if (done.succeeded() || !isConnectionFailure(done.cause())) {
        answered(started);
        return done.succeeded() ? Future.succeededFuture(done.result()) : Future.failedFuture(done.cause());
      }
      if (!isWaitFailure(done.cause()) || silentSince(startedNanos)) {
        lost(started, done.cause());
      }
      return Future.failedFuture(done.cause() instanceof StoreUnavailable ? done.cause()
          : new StoreUnavailable("the database " + database + " cannot be reached: " + describe(done.cause()),
          done.cause()));
    });
  }

  /**
   * Whether no call has had an answer from the database for {@code silence}: calls waiting that long then are
   * stuck on connections that went silent, not merely queued behind a busy store.
   */
  boolean silentFor(Duration silence) {
    return silenceLeft(silence) == 0;
  }

  /** How much longer the database must stay silent to have been so for {@code silence}; 0 once it has. */
  long silenceLeft(Duration silence) {
    return Math.max(0, silence.toNanos() - (System.nanoTime() - lastAnswer));
  }

  /**
   * Whether no call has had an answer since {@code nanos}. A call that merely waited too long (for a pooled
   * connection, in the group-commit queue, past its patience) says the database is lost only then: while other calls
   * get answers it is busy, not gone, and declaring it lost would take the node out of its load balancer and log a
   * loss and a return at every busy moment.
   */
  private boolean silentSince(long nanos) {
    return lastAnswer - nanos < 0;
  }

  /**
   * Failures that only say a call waited too long, not that the database refused or dropped it: the group commit
   * gave up a queued request at its sender's deadline, or the pool had no connection in time.
   */
  private static boolean isWaitFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException || t instanceof StoreUnavailable waited && waited.waitedOnly()) {
        return true;
      }
      if (t instanceof VertxException && t.getMessage() != null
          && t.getMessage().toLowerCase(Locale.ROOT).contains("timeout waiting for connection")) {
        return true;
      }
    }
    return false;
  }

  /** Whether the store is known to be unreachable now. */
  synchronized boolean down() {
    return lostAt != null;
  }

  /** The store's health while it is known to be lost, else null (then ask the database). */
  synchronized JsonObject downHealth() {
    if (lostAt == null) {
      return null;
    }
    return new JsonObject().put("status", "DOWN").put("database", database)
        .put("reason", "the database cannot be reached: " + reason).put("since", lostAt.toString());
  }

  private synchronized long generation() {
    return generation;
  }

  private void answered(long started) {
    lastAnswer = System.nanoTime();
    Duration outage;
    synchronized (this) {
      if (lostAt == null || started != generation) {
        return;
      }
      outage = Duration.between(lostAt, Instant.now());
      lostAt = null;
      reason = null;
      generation++;
    }
    LOG.info("The delivery store {} answers again after {} s: webhooks are accepted and leads recorded again",
        database, String.format(Locale.ROOT, "%.1f", outage.toMillis() / 1000.0));
  }

  private void lost(long started, Throwable cause) {
    String why = describe(cause);
    synchronized (this) {
      if (lostAt != null || started != generation) {
        return;
      }
      lostAt = Instant.now();
      reason = why;
      generation++;
    }
    LOG.warn("The delivery store {} cannot be reached ({}): webhooks are answered 503 and /health/ready says DOWN"
        + " until it answers again; accepted leads wait in it", database, why);
  }

  /** One line about a failure, without a stack trace or the password. */
  String describe(Throwable cause) {
    Throwable root = cause instanceof StoreUnavailable && cause.getCause() != null ? cause.getCause() : cause;
    String text;
    if (root instanceof PgException pg) {
      text = pg.getErrorMessage() + " (" + pg.getSqlState() + ")";
    } else if (root.getMessage() != null && !root.getMessage().isBlank()) {
      text = root.getMessage();
    } else {
      text = root.getClass().getSimpleName();
    }
    return password == null || password.isEmpty() ? text : text.replace(password, "***");
  }

  /**
   * Failures of the way to the database rather than of the statement: nothing can be learned about the request,
   * and it may work once the database is back. PostgreSQL ends a session with FATAL (a restart's 57P01, "not
   * accepting connections", too many clients); the client fails a call whose connection closed, was refused or
   * reset, or was not had in time.
   */
  static boolean isConnectionFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof StoreUnavailable || t instanceof IOException || t instanceof TimeoutException
          || t instanceof ClosedConnectionException) {
        return true;
      }
      if (t instanceof PgException pg) {
        String state = pg.getSqlState() == null ? "" : pg.getSqlState();
        return "FATAL".equals(pg.getSeverity()) || "PANIC".equals(pg.getSeverity()) || state.startsWith("08")
            || state.startsWith("57P") || state.equals("53300");
      }
      if (t instanceof VertxException && t.getMessage() != null) {
        String message = t.getMessage().toLowerCase(Locale.ROOT);
        // "Pool closed": the call waited in a pool replaced as dead (see PgDeliveryStore); not an answer.
        if (message.contains("timeout waiting for connection") || message.contains("pool closed")
            || message.contains("connection closed")
            || message.contains("connection was closed") || message.contains("connection reset")) {
          return true;
        }
      }
    }
    return false;
  }
}
