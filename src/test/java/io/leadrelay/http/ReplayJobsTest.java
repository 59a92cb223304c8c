package io.leadrelay.http;

import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bulk replay jobs are bounded: a flood of them is refused rather than run all at once against the store. */
class ReplayJobsTest {

  private final Vertx vertx = Vertx.vertx();
  /** The store's answers to each job's first page, held until the test lets them go. */
  private final List<Promise<List<DeliveryRecord>>> pages = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aFloodOfJobsIsRefusedBeyondTheBoundAndASlotFreesWhenAJobEnds() throws Exception {
    ReplayJobs jobs = new ReplayJobs(vertx, slowStore());
    DeliveryFilter filter = DeliverySearch.replayFilter(name -> "state".equals(name) ? "DEAD"
        : "q".equals(name) ? "example.ru" : null);
    List<Future<JsonObject>> started = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      started.add(jobs.start(filter, "flood " + i));
    }
    long running = started.stream().filter(Future::succeeded).count();
    assertEquals(ReplayJobs.MAX_RUNNING, running, "only the bound runs at once");
    Future<JsonObject> refused = started.get(started.size() - 1);
    assertInstanceOf(ReplayJobs.TooManyJobs.class, refused.cause());
    assertTrue(refused.cause().getMessage().contains("wait for one to finish"), refused.cause().getMessage());

    // One job's page comes back empty: it is done, and its slot takes a new job.
    pages.get(0).complete(List.of());
    assertEquals("done", jobs.get(started.get(0).result().getString("id")).getString("state"));
    assertTrue(jobs.start(filter, "after one finished").succeeded());
    assertTrue(jobs.start(filter, "one too many again").failed());
  }

  /** A store that counts at once and holds every search until the test completes it. */
  private DeliveryStore slowStore() {
    return (DeliveryStore) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DeliveryStore.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "count" -> Future.succeededFuture(3L);
          case "search" -> {
            Promise<List<DeliveryRecord>> page = Promise.promise();
            pages.add(page);
            yield page.future();
          }
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

}
