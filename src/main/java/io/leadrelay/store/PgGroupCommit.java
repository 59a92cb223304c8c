package io.leadrelay.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Duration;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Group commit for PostgreSQL: requests that arrive while earlier groups are being committed gather, and each
 * group is then written in one transaction whose statements are pipelined on one connection, so a durable commit
 * per webhook costs one round trip and one WAL flush per group rather than per webhook. At most
 * {@code maxGroups} groups are in flight at once (each holds one pooled connection). A group that fails as a whole
 * (one bad request aborts a PostgreSQL transaction) is retried one request per transaction, so only the bad one
 * fails; a group that failed because the database could not be reached fails as a whole (one by one would only
 * ask the missing database again for each). A request may carry a time to give up by: one still waiting for a group
 * then is withdrawn, never written, and fails with {@link StoreUnavailable}, so a webhook whose sender has been told
 * 503 does not become a delivery later. Answers come on each caller's own context, after the commit.
 *
 * @param <I> one request
 * @param <R> its answer
 */
final class PgGroupCommit<I, R> {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PgGroupCommit.class);

  /** Writes one group on one connection inside its transaction; answers in the order of the requests. */
  interface GroupWrite<I, R> extends BiFunction<SqlConnection, List<I>, Future<List<R>>> {
  }

  /** {@code giveUpAt}: System.nanoTime() after which it is withdrawn if still waiting; Long.MAX_VALUE: never. */
  private record Entry<I, R>(I request, Promise<R> promise, Context context, long giveUpAt) {
  }

  /** How often requests still waiting are checked against their time to give up. */
  private static final long WITHDRAW_EVERY_MS = 100;

  private final Vertx vertx;
  /** The store's pool as it is now (it is replaced when its connections stop answering). */
  private final Supplier<Pool> pool;
  private final GroupWrite<I, R> write;
  private final int maxGroup;
  private final int maxGroups;
  private final Queue<Entry<I, R>> queue = new ArrayDeque<>();
  private int inFlight;
  private volatile CommitObserver observer = CommitObserver.NONE;
  /** Told of every group's transaction as it starts, to watch it for a stall (see PgDeliveryStore). */
  private volatile Consumer<Future<?>> started = written -> { };
  private long groups;
  /** The timer withdrawing requests past their time, while any that have one wait. */
  private long withdrawTimer = -1;

  PgGroupCommit(Vertx vertx, Supplier<Pool> pool, GroupWrite<I, R> write, int maxGroup, int maxGroups) {
    this.vertx = vertx;
    this.pool = pool;
    this.write = write;
    this.maxGroup = maxGroup;
    this.maxGroups = maxGroups;
  }

  Future<R> submit(I request) {
    return submit(request, null);
  }

  /**
   * As {@link #submit(Object)}; if no group has taken the request by {@code giveUpAfter} (null: never), it is
   * withdrawn and fails with {@link StoreUnavailable}: it was not written.
   */
  Future<R> submit(I request, Duration giveUpAfter) {
    long giveUpAt = giveUpAfter == null ? Long.MAX_VALUE : System.nanoTime() + giveUpAfter.toNanos();
    Entry<I, R> entry = new Entry<>(request, Promise.promise(), vertx.getOrCreateContext(), giveUpAt);
    List<Entry<I, R>> group;
    synchronized (this) {
      queue.add(entry);
      group = takeGroup();
      if (giveUpAfter != null && !queue.isEmpty() && withdrawTimer < 0) {
        withdrawTimer = vertx.setPeriodic(WITHDRAW_EVERY_MS, id -> withdrawExpired());
      }
    }
    if (group != null) {
      run(group);
    }
    return entry.promise().future();
  }

  void observe(CommitObserver observer) {
    this.observer = observer;
  }

  /** {@code started} is told of each group's transaction as it starts: one watch per group, not per request. */
  void watchGroups(Consumer<Future<?>> started) {
    this.started = started;
  }

  /** Groups committed so far (each one transaction). */
  synchronized long groups() {
    return groups;
  }

  /**
   * Fails the requests that waited past their time to give up. They were never part of a group, so nothing of them
   * was written: the answer "not stored" is exact.
   */
  private void withdrawExpired() {
    List<Entry<I, R>> expired = new ArrayList<>();
    synchronized (this) {
      long now = System.nanoTime();
      boolean anyWithDeadline = false;
      for (Iterator<Entry<I, R>> it = queue.iterator(); it.hasNext(); ) {
        Entry<I, R> entry = it.next();
        if (entry.giveUpAt() != Long.MAX_VALUE && now - entry.giveUpAt() >= 0) {
          it.remove();
          expired.add(entry);
        } else if (entry.giveUpAt() != Long.MAX_VALUE) {
          anyWithDeadline = true;
        }
      }
      if (!anyWithDeadline) {
        vertx.cancelTimer(withdrawTimer);
        withdrawTimer = -1;
      }
    }
    for (Entry<I, R> entry : expired) {
      answer(entry, Future.failedFuture(StoreUnavailable.waited("the database took no new work in time: not stored")));
    }
  }

  /** The next group when a slot is free; called under the lock. */
  private List<Entry<I, R>> takeGroup() {
    if (queue.isEmpty() || inFlight >= maxGroups) {
      return null;
    }
    inFlight++;
    List<Entry<I, R>> group = new ArrayList<>(Math.min(queue.size(), maxGroup));
    while (group.size() < maxGroup && !queue.isEmpty()) {
      group.add(queue.poll());
    }
    return group;
  }

  private void run(List<Entry<I, R>> group) {
    List<I> requests = group.stream().map(Entry::request).toList();
    long startedAt = System.nanoTime();
    Pool used = pool.get();
    Future<List<R>> transaction = inTransaction(used, requests)
        // Its pool was closed under it as dead (PgDeliveryStore): the database, not the group, failed.
        .recover(failed -> Future.failedFuture(used != pool.get() && !(failed instanceof StoreUnavailable)
            ? new StoreUnavailable("its connection was dropped as dead", failed) : failed));
    started.accept(transaction);
    transaction
        .andThen(written -> {
          if (written.succeeded()) {
            observer.committed(group.size(), System.nanoTime() - startedAt);
          }
        })
        .recover(failed -> group.size() == 1 || PgAvailability.isConnectionFailure(failed)
            ? Future.failedFuture(failed) : Future.succeededFuture(null))
        .onComplete(written -> {
          if (written.succeeded() && written.result() != null) {
            for (int i = 0; i < group.size(); i++) {
              answer(group.get(i), Future.succeededFuture(written.result().get(i)));
            }
          } else if (written.failed()) {
            // One request, or the database itself failed: every request of the group fails with it.
            group.forEach(entry -> answer(entry, Future.failedFuture(written.cause())));
          } else {
            // The group failed as a whole: each request alone, so one bad request fails only itself.
            for (Entry<I, R> entry : group) {
              inTransaction(pool.get(), List.of(entry.request()))
                  .map(answers -> answers.get(0))
                  .onComplete(alone -> answer(entry, alone));
            }
          }
          List<Entry<I, R>> next;
          synchronized (this) {
            inFlight--;
            groups++;
            next = takeGroup();
          }
          if (next != null) {
            run(next);
          }
        });
  }

  /**
   * The requests written in one transaction on a connection of {@code pool}, as {@code Pool.withTransaction} does,
   * except that the connection gets an exception handler the moment it is taken: the database ending the session
   * under it (a restart's FATAL 57P01) fails the transaction, which is how the callers hear of it, and without a
   * handler the connection would also print it to stderr, past the log, once per busy connection.
   */
  private Future<List<R>> inTransaction(Pool pool, List<I> requests) {
    return pool.getConnection().compose(connection -> {
      connection.exceptionHandler(failure -> LOG.debug("A group commit's connection failed: {}", failure.toString()));
      return connection.begin()
          .compose(transaction -> write.apply(connection, requests).transform(written -> written.succeeded()
              ? transaction.commit().map(written.result())
              : transaction.rollback().transform(rolledBack -> Future.<List<R>>failedFuture(written.cause()))))
          .eventually(connection::close);
    });
  }

  private void answer(Entry<I, R> entry, io.vertx.core.AsyncResult<R> outcome) {
    entry.context().runOnContext(v -> entry.promise().handle(outcome));
  }
}
