package io.leadrelay.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.function.BiFunction;

/**
 * Group commit for PostgreSQL: requests that arrive while earlier groups are being committed gather, and each
 * group is then written in one transaction whose statements are pipelined on one connection, so a durable commit
 * per webhook costs one round trip and one WAL flush per group rather than per webhook. At most
 * {@code maxGroups} groups are in flight at once (each holds one pooled connection). A group that fails as a whole
 * (one bad request aborts a PostgreSQL transaction) is retried one request per transaction, so only the bad one
 * fails. Answers come on each caller's own context, after the commit.
 *
 * @param <I> one request
 * @param <R> its answer
 */
final class PgGroupCommit<I, R> {

  /** Writes one group on one connection inside its transaction; answers in the order of the requests. */
  interface GroupWrite<I, R> extends BiFunction<SqlConnection, List<I>, Future<List<R>>> {
  }

  private record Entry<I, R>(I request, Promise<R> promise, Context context) {
  }

  private final Vertx vertx;
  private final Pool pool;
  private final GroupWrite<I, R> write;
  private final int maxGroup;
  private final int maxGroups;
  private final Queue<Entry<I, R>> queue = new ArrayDeque<>();
  private int inFlight;
  private volatile CommitObserver observer = CommitObserver.NONE;
  private long groups;

  PgGroupCommit(Vertx vertx, Pool pool, GroupWrite<I, R> write, int maxGroup, int maxGroups) {
    this.vertx = vertx;
    this.pool = pool;
    this.write = write;
    this.maxGroup = maxGroup;
    this.maxGroups = maxGroups;
  }

  Future<R> submit(I request) {
    Entry<I, R> entry = new Entry<>(request, Promise.promise(), vertx.getOrCreateContext());
    List<Entry<I, R>> group;
    synchronized (this) {
      queue.add(entry);
      group = takeGroup();
    }
    if (group != null) {
      run(group);
    }
    return entry.promise().future();
  }

  void observe(CommitObserver observer) {
    this.observer = observer;
  }

  /** Groups committed so far (each one transaction). */
  synchronized long groups() {
    return groups;
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
    long started = System.nanoTime();
    pool.withTransaction(connection -> write.apply(connection, requests))
        .andThen(written -> {
          if (written.succeeded()) {
            observer.committed(group.size(), System.nanoTime() - started);
          }
        })
        .recover(failed -> group.size() == 1 ? Future.failedFuture(failed) : Future.succeededFuture(null))
        .onComplete(written -> {
          if (written.succeeded() && written.result() != null) {
            for (int i = 0; i < group.size(); i++) {
              answer(group.get(i), Future.succeededFuture(written.result().get(i)));
            }
          } else if (written.failed()) {
            answer(group.get(0), Future.failedFuture(written.cause()));
          } else {
            // The group failed as a whole: each request alone, so one bad request fails only itself.
            for (Entry<I, R> entry : group) {
              pool.withTransaction(connection -> write.apply(connection, List.of(entry.request())))
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

  private void answer(Entry<I, R> entry, io.vertx.core.AsyncResult<R> outcome) {
    entry.context().runOnContext(v -> entry.promise().handle(outcome));
  }
}
