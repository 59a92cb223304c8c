package io.leadrelay.http;

import io.leadrelay.delivery.Deliveries;
import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Bulk replays run as jobs: the deliveries matching a filter are replayed a page at a time, and the job's progress
 * (done of total) is kept where every HTTP verticle instance of this node can answer {@code GET /admin/jobs/{id}},
 * so the admin page can show a progress bar and find it again after a reload. Jobs live on the node that runs them,
 * in memory: a restart forgets them (what was replayed stays replayed; replaying again is harmless).
 */
final class ReplayJobs {

  private static final Logger AUDIT = LoggerFactory.getLogger("io.leadrelay.admin");
  private static final String MAP = "leadrelay.admin.jobs";
  /** Deliveries replayed per store round: small enough to show progress, large enough to be quick. */
  static final int PAGE = 200;
  /** Finished jobs kept for looking at; the oldest go first. */
  private static final int KEPT = 50;
  /**
   * Jobs running at once on this node. Each pages through the store on its own; without a bound a script (or a
   * double-clicking operator) starting hundreds would have them all compete with deliveries for the store.
   */
  static final int MAX_RUNNING = 4;
  private static final String SLOTS = "leadrelay.admin.jobs.running";

  /** A new job was asked for while {@link #MAX_RUNNING} were running. */
  static final class TooManyJobs extends RuntimeException {
    TooManyJobs() {
      super(MAX_RUNNING + " replay jobs are running on this node; wait for one to finish (GET /admin/jobs/{id})"
          + " and start this one again.", null, false, false);
    }
  }

  private final Vertx vertx;
  private final DeliveryStore store;
  private final Deliveries deliveries;

  ReplayJobs(Vertx vertx, DeliveryStore store) {
    this.vertx = vertx;
    this.store = store;
    this.deliveries = new Deliveries(store);
  }

  private LocalMap<String, JsonObject> jobs() {
    return vertx.sharedData().getLocalMap(MAP);
  }

  /** Counts what matches, answers with the job at once, and replays in the background; or fails with TooManyJobs. */
  Future<JsonObject> start(DeliveryFilter filter, String what) {
    String id = UUID.randomUUID().toString();
    // Every HTTP verticle instance of the node shares the slots; putIfAbsent takes one atomically.
    String slot = reserve(id);
    if (slot == null) {
      return Future.failedFuture(new TooManyJobs());
    }
    return store.count(filter).onFailure(failure -> release(slot)).map(total -> {
      JsonObject job = new JsonObject()
          .put("id", id)
          .put("kind", "replay")
          .put("what", what)
          .put("state", "running")
          .put("total", total)
          .put("done", 0L)
          .put("replayed", 0L)
          .put("startedAt", Instant.now().toString());
      forgetOld();
      jobs().put(id, job);
      run(id, filter, null, slot);
      return job;
    });
  }

  JsonObject get(String id) {
    return id == null ? null : jobs().get(id);
  }

  private String reserve(String id) {
    LocalMap<String, String> slots = vertx.sharedData().getLocalMap(SLOTS);
    for (int i = 0; i < MAX_RUNNING; i++) {
      if (slots.putIfAbsent("slot-" + i, id) == null) {
        return "slot-" + i;
      }
    }
    return null;
  }

  private void release(String slot) {
    vertx.sharedData().<String, String>getLocalMap(SLOTS).remove(slot);
  }

  private void run(String id, DeliveryFilter filter, String before, String slot) {
    store.search(filter.before(before), PAGE)
        .compose(page -> replay(page).map(replayed -> {
          JsonObject job = jobs().get(id);
          job.put("done", job.getLong("done") + page.size()).put("replayed", job.getLong("replayed") + replayed);
          // Rows that arrived after the count was taken can make done pass total; the bar never runs over.
          job.put("total", Math.max(job.getLong("total"), job.getLong("done")));
          if (page.size() < PAGE) {
            job.put("state", "done").put("finishedAt", Instant.now().toString());
          }
          jobs().put(id, job);
          return page.size() < PAGE ? null : page.get(page.size() - 1).delivery().id();
        }))
        .onSuccess(next -> {
          if (next != null) {
            run(id, filter, next, slot);
          } else {
            release(slot);
            JsonObject job = jobs().get(id);
            AUDIT.info("Admin job {}: replayed {} of {} deliveries ({})", id, job.getLong("replayed"),
                job.getLong("total"), job.getString("what"));
          }
        })
        .onFailure(failure -> {
          release(slot);
          AUDIT.warn("Admin job {} stopped: the delivery store failed: {}", id, failure.toString());
          JsonObject job = jobs().get(id);
          jobs().put(id, job.put("state", "failed").put("finishedAt", Instant.now().toString())
              .put("message", "The delivery store could not answer; what was replayed stays replayed. Start the"
                  + " replay again to finish it."));
        });
  }

  private Future<Long> replay(List<DeliveryRecord> page) {
    Instant now = Instant.now();
    List<Future<Boolean>> replays = page.stream().map(r -> deliveries.replay(r.delivery().id(), now)).toList();
    return Future.all(replays).map(all -> replays.stream().filter(Future::result).count());
  }

  private void forgetOld() {
    LocalMap<String, JsonObject> jobs = jobs();
    List<JsonObject> finished = jobs.values().stream().filter(job -> !"running".equals(job.getString("state")))
        .sorted(java.util.Comparator.comparing(job -> job.getString("startedAt"))).toList();
    for (int i = 0; i < finished.size() - KEPT; i++) {
      jobs.remove(finished.get(i).getString("id"));
    }
  }
}
