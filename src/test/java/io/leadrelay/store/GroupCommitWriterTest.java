package io.leadrelay.store;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.leadrelay.store.Await.await;
import static io.leadrelay.store.Await.awaitFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class GroupCommitWriterTest {

  @TempDir
  Path dir;

  private Connection connection;
  private GroupCommitWriter writer;
  private final CountDownLatch blocked = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void open(Vertx vertx) throws SQLException {
    connection = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + dir.resolve("writer.db"), new Properties());
    try (Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE names (name TEXT PRIMARY KEY)");
    }
    writer = new GroupCommitWriter(vertx, connection, "leadrelay-store", 500);
  }

  @AfterEach
  void close() {
    release.countDown();
    await(writer.close());
  }

  /** Holds the writer thread inside a job so that the next jobs are known to queue up behind it. */
  private Future<Object> holdWriter() throws InterruptedException {
    Future<Object> held = writer.submit(c -> {
      blocked.countDown();
      release.await(5, TimeUnit.SECONDS);
      return null;
    });
    assertTrue(blocked.await(5, TimeUnit.SECONDS), "the writer never ran the holding job");
    return held;
  }

  private Future<String> insert(String name) {
    return writer.submit(c -> {
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO names VALUES (?)")) {
        insert.setString(1, name);
        insert.executeUpdate();
      }
      return name;
    });
  }

  private Future<List<String>> names() {
    return writer.submit(c -> {
      List<String> names = new ArrayList<>();
      try (Statement select = c.createStatement(); ResultSet rows = select.executeQuery(
          "SELECT name FROM names ORDER BY name")) {
        while (rows.next()) {
          names.add(rows.getString(1));
        }
      }
      return names;
    });
  }

  @Test
  void jobsQueuedDuringABatchShareOneTransaction() throws Exception {
    Future<Object> held = holdWriter();
    List<Future<String>> inserts = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      inserts.add(insert("n" + i));
    }
    release.countDown();

    await(held);
    for (Future<String> insert : inserts) {
      await(insert);
    }
    assertEquals(2, writer.commits(), "one commit for the holding job, one for the 100 queued behind it");
    assertEquals(100, await(names()).size());
  }

  @Test
  void aBatchTakesAtMostMaxBatchJobs(Vertx vertx) throws Exception {
    GroupCommitWriter small = new GroupCommitWriter(vertx,
        org.sqlite.JDBC.createConnection("jdbc:sqlite:" + dir.resolve("small.db"), new Properties()),
        "leadrelay-store", 10);
    CountDownLatch smallBlocked = new CountDownLatch(1);
    Future<Object> held = small.submit(c -> {
      smallBlocked.countDown();
      release.await(5, TimeUnit.SECONDS);
      return null;
    });
    assertTrue(smallBlocked.await(5, TimeUnit.SECONDS));
    List<Future<Integer>> jobs = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      int n = i;
      jobs.add(small.submit(c -> n));
    }
    release.countDown();

    await(held);
    for (int i = 0; i < 25; i++) {
      assertEquals(i, await(jobs.get(i)));
    }
    assertEquals(4, small.commits(), "1 holding job, then batches of 10, 10 and 5");
    await(small.close());
  }

  @Test
  void aFailingJobRollsBackOnlyItselfAndFailsOnlyItsFuture() throws Exception {
    Future<Object> held = holdWriter();
    Future<String> before = insert("alice");
    Future<String> failing = writer.submit(c -> {
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO names VALUES (?)")) {
        insert.setString(1, "mallory");
        insert.executeUpdate();
      }
      throw new IllegalStateException("mapping went wrong");
    });
    Future<String> duplicate = insert("alice");
    Future<String> after = insert("bob");
    release.countDown();

    await(held);
    assertEquals("alice", await(before));
    assertEquals("bob", await(after));
    assertEquals("mapping went wrong", awaitFailure(failing).getMessage());
    assertTrue(awaitFailure(duplicate) instanceof SQLException, "a constraint violation fails its own job");
    assertEquals(List.of("alice", "bob"), await(names()), "the failed job's insert was rolled back");
    assertEquals(2, writer.commits() - 1, "the failures did not cost the batch its commit");
  }

  @Test
  void futuresCompleteOnTheCallersContextNotTheWriterThread(Vertx vertx, VertxTestContext ctx) {
    Context context = vertx.getOrCreateContext();
    Checkpoint succeeded = ctx.checkpoint();
    Checkpoint failed = ctx.checkpoint();
    context.runOnContext(v -> {
      insert("carol").onComplete(ctx.succeeding(name -> ctx.verify(() -> {
        assertSame(context, Vertx.currentContext());
        assertNotEquals("leadrelay-store", Thread.currentThread().getName());
        succeeded.flag();
      })));
      writer.submit(c -> {
        throw new SQLException("disk on fire");
      }).onComplete(ctx.failing(error -> ctx.verify(() -> {
        assertSame(context, Vertx.currentContext());
        assertEquals("disk on fire", error.getMessage());
        failed.flag();
      })));
    });
  }

  @Test
  void closeRunsWhatIsQueuedThenRefusesNewJobs() throws Exception {
    Future<Object> held = holdWriter();
    List<Future<String>> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(insert("q" + i));
    }
    Future<Void> closed = writer.close();
    Future<String> late = insert("late");
    release.countDown();

    await(held);
    for (Future<String> insert : queued) {
      await(insert);
    }
    await(closed);
    assertTrue(connection.isClosed());
    assertEquals("The delivery store is closed.", awaitFailure(late).getMessage());

    try (Connection reopened = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + dir.resolve("writer.db"),
        new Properties());
         Statement select = reopened.createStatement();
         ResultSet rows = select.executeQuery("SELECT COUNT(*) FROM names")) {
      rows.next();
      assertEquals(10, rows.getInt(1), "the jobs queued before close were committed");
    }
  }
}
