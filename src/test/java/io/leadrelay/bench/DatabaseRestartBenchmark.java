package io.leadrelay.bench;

import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.HttpConfig;
import io.leadrelay.store.PgSettings;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.SslMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real restart of PostgreSQL under a relay taking webhooks (bench/pg-restart.sh, which runs a private cluster of
 * its own so that the tests' shared server is never touched): eight senders post distinct webhooks and send a
 * refused one again after 200 ms, as a sender that retries does; after a few seconds the cluster is restarted
 * ({@code pg_ctl restart -m fast}: every backend terminated with 57P01, connections refused until it is up). Prints
 * the answers seen, the time from the database's return to the first webhook accepted and to every accepted one's
 * lead, and leads missing or doubled. The relay runs with the production delivery timings (120 s delivery leases, 1 s
 * sweeps, 10 s owner lease, 10 s request deadline). A measuring harness, not a test.
 * Arguments: port, pg_ctl restart command (one string, run by sh -c).
 */
public final class DatabaseRestartBenchmark {

  private static final int SENDERS = 8;
  private static final DeliveryConfig PRODUCTION = new DeliveryConfig("FULL", Duration.ofSeconds(2),
      Duration.ofSeconds(600), Duration.ofHours(72), Duration.ofMinutes(10), Duration.ofSeconds(120),
      Duration.ofSeconds(1), 200, 30);

  private DatabaseRestartBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String restart = args[1];
    Vertx vertx = Vertx.vertx();
    Path dir = Files.createTempDirectory("leadrelay-pg-restart");
    try {
      FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).await(30, TimeUnit.SECONDS);
      PgSettings settings = new PgSettings("127.0.0.1", port, "postgres", "postgres", null, SslMode.DISABLE, 8);
      TestRelay relay = TestRelay.startOnPostgres(vertx, dir, settings, "node-a", portal, Duration.ofSeconds(10),
          PRODUCTION, new HttpConfig("127.0.0.1", 0, 2, 64 * 1024, 30, 10)).await(60, TimeUnit.SECONDS);
      Traffic traffic = new Traffic(vertx, relay);
      traffic.start();
      Thread.sleep(3_000);
      long restartAt = System.nanoTime();
      Process process = new ProcessBuilder("sh", "-c", restart).inheritIO().start();
      if (process.waitFor() != 0) {
        throw new IllegalStateException("the restart command failed: " + restart);
      }
      long backAt = System.nanoTime();
      traffic.markBack(backAt);
      // What was accepted up to the return (the deliveries in hand when the database went): all leads by when?
      Set<String> inHand = Set.copyOf(traffic.acceptedIds());
      long inHandAt = waitForLeads(portal, inHand, 120);
      long untilFiveSeconds = backAt + TimeUnit.SECONDS.toNanos(5) - System.nanoTime();
      if (untilFiveSeconds > 0) {
        TimeUnit.NANOSECONDS.sleep(untilFiveSeconds);
      }
      traffic.stop();
      Set<String> ids = traffic.acceptedIds();
      long drainedAt = waitForLeads(portal, ids, 120);
      Map<String, Integer> byOrigin = new HashMap<>();
      portal.leads().forEach(lead -> byOrigin.merge(lead.getString("ORIGIN_ID"), 1, Integer::sum));
      long doubled = byOrigin.values().stream().filter(n -> n > 1).count();
      Set<String> missing = new HashSet<>(ids);
      missing.removeAll(byOrigin.keySet());
      System.out.printf("pg-restart: restart took %.2f s; answers 200=%d 503=%d other=%d, slowest answer %d ms;"
              + " first webhook accepted %.2f s after the database was back; the %d accepted before it were leads"
              + " %.2f s after it; traffic went on 5 s, its last lead %.2f s after the traffic stopped;"
              + " accepted=%d leads=%d missing=%d doubled=%d unacknowledged-but-created=%d%n",
          (backAt - restartAt) / 1e9, traffic.ok.get(), traffic.refused.get(), traffic.other.get(),
          traffic.slowestMillis.get(), (traffic.firstOkAfterBack.get() - backAt) / 1e9, inHand.size(),
          (inHandAt - backAt) / 1e9, (drainedAt - traffic.stoppedAt) / 1e9, ids.size(), portal.leads().size(), missing.size(), doubled,
          byOrigin.keySet().stream().filter(id -> !ids.contains(id)).count());
      relay.relay().stop().await(30, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
      }
    }
  }

  private static long waitForLeads(FakeBitrixPortal portal, Set<String> ids, int seconds) throws Exception {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < giveUp) {
      Set<String> origins = new HashSet<>();
      portal.leads().forEach(lead -> origins.add(lead.getString("ORIGIN_ID")));
      if (origins.containsAll(ids)) {
        return System.nanoTime();
      }
      Thread.sleep(20);
    }
    return System.nanoTime();
  }

  /** Senders posting distinct webhooks, each refused one again after 200 ms until it is taken. */
  private static final class Traffic {
    private final Vertx vertx;
    private final TestRelay relay;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger ok = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger other = new AtomicInteger();
    private final AtomicLong slowestMillis = new AtomicLong();
    private final AtomicLong backAt = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong firstOkAfterBack = new AtomicLong(Long.MAX_VALUE);
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private final List<Promise<Void>> done = new java.util.ArrayList<>();

    Traffic(Vertx vertx, TestRelay relay) {
      this.vertx = vertx;
      this.relay = relay;
    }

    void start() {
      for (int i = 0; i < SENDERS; i++) {
        Promise<Void> finished = Promise.promise();
        done.add(finished);
        send(newBody(), finished);
      }
    }

    void markBack(long at) {
      backAt.set(at);
    }

    private long stoppedAt;

    void stop() throws Exception {
      stoppedAt = System.nanoTime();
      running.set(false);
      Future.all(done.stream().map(Promise::future).toList()).await(60, TimeUnit.SECONDS);
    }

    Set<String> acceptedIds() {
      return accepted;
    }

    private String newBody() {
      int i = next.getAndIncrement();
      return new JsonObject().put("name", "Restart " + i).put("phone", "+7999" + (1_000_000 + i)).encode();
    }

    private void send(String body, Promise<Void> finished) {
      long started = System.nanoTime();
      relay.client().post(relay.port(), "127.0.0.1", "/webhook/default/" + TestRelay.SECRET)
          .putHeader("Content-Type", "application/json").timeout(30_000).sendBuffer(Buffer.buffer(body))
          .onComplete(answered -> {
            long now = System.nanoTime();
            slowestMillis.accumulateAndGet((now - started) / 1_000_000, Math::max);
            boolean taken = answered.succeeded() && answered.result().statusCode() == 200;
            if (taken) {
              ok.incrementAndGet();
              accepted.add(answered.result().bodyAsJsonObject().getString("id"));
              if (now > backAt.get()) {
                firstOkAfterBack.accumulateAndGet(now, Math::min);
              }
            } else if (answered.succeeded() && answered.result().statusCode() == 503) {
              refused.incrementAndGet();
            } else {
              other.incrementAndGet();
              System.out.println("pg-restart: unexpected answer " + (answered.succeeded()
                  ? answered.result().statusCode() + " " + answered.result().bodyAsString() : answered.cause()));
            }
            if (!taken) {
              vertx.setTimer(200, id -> send(body, finished));
            } else if (running.get()) {
              vertx.setTimer(20, id -> send(newBody(), finished));
            } else {
              finished.complete();
            }
          });
    }
  }
}
