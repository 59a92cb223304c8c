package io.leadrelay.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs jobs against one JDBC connection on one dedicated thread, committing every job that queued up meanwhile in a
 * single transaction (group commit): while one commit waits for its fsync, the next batch gathers, so a durable
 * commit per webhook does not limit throughput. Each job runs inside its own SAVEPOINT, so a job that fails rolls
 * back only its own changes and fails only its own future. Futures complete on the Vert.x context of the caller,
 * never on the writer thread, and only after the batch's COMMIT returned.
 */
final class GroupCommitWriter {

  /** Work on the connection; runs on the writer thread inside the batch's transaction. */
  @FunctionalInterface
  interface Job<T> {
    T run(Connection connection) throws Exception;
  }

  static final int DEFAULT_MAX_BATCH = 500;

  private final Vertx vertx;
  private final Connection connection;
  private final int maxBatch;
  private final BlockingQueue<Entry<?>> queue = new LinkedBlockingQueue<>();
  private final AtomicLong commits = new AtomicLong();
  private final Promise<Void> closed = Promise.promise();
  private final Thread thread;
  private final StoreHealth health;
  private volatile CommitObserver observer = CommitObserver.NONE;
  private boolean closing;

  GroupCommitWriter(Vertx vertx, Connection connection, String threadName, int maxBatch) {
    this(vertx, connection, threadName, maxBatch, StoreHealth.untracked());
  }

  /** {@code health} is told every batch's outcome, and checks before each batch that the file is still there. */
  GroupCommitWriter(Vertx vertx, Connection connection, String threadName, int maxBatch, StoreHealth health) {
    this.health = health;
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.vertx = vertx;
    this.connection = connection;
    this.maxBatch = maxBatch;
    // A platform daemon thread: it blocks in fsync, which is exactly what must never happen on an event loop, and
    // it must not keep the JVM alive if the store was never closed.
    this.thread = new Thread(this::loop, threadName);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues a job; the future completes on the caller's context once the job's batch is committed. */
  <T> Future<T> submit(Job<T> job) {
    Context context = vertx.getOrCreateContext();
    Entry<T> entry = new Entry<>(job, context);
    synchronized (this) {
      // Checked and queued under the lock so no job can slip in behind the stop marker and be left unanswered.
      if (closing) {
        return Future.failedFuture(new IllegalStateException("The delivery store is closed."));
      }
      queue.add(entry);
    }
    return entry.promise.future();
  }

  /** Runs the queued jobs, commits them, closes the connection and stops the thread. Later jobs fail. */
  Future<Void> close() {
    Context context = vertx.getOrCreateContext();
    synchronized (this) {
      if (!closing) {
        closing = true;
        queue.add(Entry.STOP);
      }
    }
    Promise<Void> answer = Promise.promise();
    closed.future().onComplete(ar -> context.runOnContext(v -> answer.handle(ar)));
    return answer.future();
  }

  void observe(CommitObserver observer) {
    this.observer = observer;
  }

  /** Transactions committed so far: with group commit, far fewer than jobs. */
  long commits() {
    return commits.get();
  }

  private void loop() {
    List<Entry<?>> batch = new ArrayList<>(maxBatch);
    boolean stop = false;
    while (!stop) {
      try {
        batch.add(queue.take());
        queue.drainTo(batch, maxBatch - 1);
      } catch (InterruptedException e) {
        // Nobody interrupts this thread but close(); treat it as a stop after what was already taken.
        stop = true;
      }
      int stopAt = batch.indexOf(Entry.STOP);
      if (stopAt >= 0) {
        // Nothing is queued behind the stop marker (submit refuses after close), so everything is run.
        batch.remove(stopAt);
        stop = true;
      }
      if (!batch.isEmpty()) {
        runBatch(batch);
      }
      batch.clear();
    }
    try {
      connection.close();
      closed.complete();
    } catch (SQLException e) {
      closed.fail(e);
    }
  }

  private void runBatch(List<Entry<?>> batch) {
    try (Statement statement = connection.createStatement()) {
      health.checkFile();
      long changesBefore = totalChanges(statement);
      // IMMEDIATE takes the write lock up front, so a second process reading the file cannot make a later
      // statement in the batch fail halfway with SQLITE_BUSY.
      long started = System.nanoTime();
      statement.execute("BEGIN IMMEDIATE");
      boolean storeFailed = false;
      for (Entry<?> entry : batch) {
        entry.runInSavepoint(connection, statement);
        if (entry.failure != null && StoreHealth.isStoreFailure(entry.failure)) {
          health.failed(entry.failure);
          storeFailed = true;
        }
      }
      statement.execute("COMMIT");
      commits.incrementAndGet();
      observer.committed(batch.size(), System.nanoTime() - started);
      if (!storeFailed && totalChanges(statement) > changesBefore) {
        // Only a commit that wrote shows the store works again: a read succeeds on a full disk too.
        health.committed();
      }
    } catch (Throwable e) {
      // BEGIN, a savepoint or COMMIT failed: nothing of this batch is durable, so nobody may be told it is.
      health.failed(e);
      rollbackQuietly();
      for (Entry<?> entry : batch) {
        if (entry.failure != null) {
          // E.g. SQLITE_FULL: SQLite rolled the whole transaction back itself, so the savepoint was gone.
          health.failed(entry.failure);
        }
        entry.fail(e);
      }
      return;
    }
    for (Entry<?> entry : batch) {
      entry.answer();
    }
  }

  private static long totalChanges(Statement statement) throws SQLException {
    try (java.sql.ResultSet rows = statement.executeQuery("SELECT total_changes()")) {
      return rows.next() ? rows.getLong(1) : 0;
    }
  }

  private void rollbackQuietly() {
    try (Statement statement = connection.createStatement()) {
      statement.execute("ROLLBACK");
    } catch (SQLException ignored) {
      // No transaction was open (BEGIN itself failed) or the connection is gone; either way nothing was kept.
    }
  }

  /** One queued job with where and how to answer it. */
  private static final class Entry<T> {

    static final Entry<Void> STOP = new Entry<>(connection -> null, null);

    final Job<T> job;
    final Context context;
    final Promise<T> promise = Promise.promise();
    T result;
    Throwable failure;

    Entry(Job<T> job, Context context) {
      this.job = job;
      this.context = context;
    }

    void runInSavepoint(Connection connection, Statement statement) throws SQLException {
      statement.execute("SAVEPOINT job");
      try {
        result = job.run(connection);
        statement.execute("RELEASE job");
      } catch (Exception e) {
        failure = e;
        // Undo this job's changes only; the others in the batch stay and commit.
        statement.execute("ROLLBACK TO job");
        statement.execute("RELEASE job");
      }
    }

    void fail(Throwable batchFailure) {
      Throwable cause = failure != null ? failure : batchFailure;
      context.runOnContext(v -> promise.fail(cause));
    }

    void answer() {
      if (failure != null) {
        Throwable cause = failure;
        context.runOnContext(v -> promise.fail(cause));
      } else {
        T value = result;
        context.runOnContext(v -> promise.complete(value));
      }
    }
  }
}
