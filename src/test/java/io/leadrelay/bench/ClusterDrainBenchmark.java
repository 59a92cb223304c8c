package io.leadrelay.bench;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.RelayCluster;
import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drain time of N relays sharing one PostgreSQL database (bench/cluster-drain.sh): the fat jar N times (N = 1 is one
 * node on PostgreSQL, clustered with itself; N = 3 a cluster of three), against a fake portal that enforces the
 * standard plan (bucket 50 at 2/s). A broadcast of W webhooks is posted as fast as the nodes take them, round robin
 * over the nodes, 64 at a time; then the time until the last lead exists is set against the bucket's theoretical
 * minimum, with the portal's refusals, duplicates and each node's RSS. A warm-up broadcast of 1,000 goes first (a
 * relay in production is not cold), then the timed one 26 s after its last lead: a new owner assumes the bucket full,
 * and it takes 25 s to drain. With {@code TIMELINE} set in the environment, every request of the timed broadcast is
 * printed (index, seconds, method, leads, the portal's bucket level before it). A measuring harness, not a test.
 * Arguments: nodes (default 3), webhooks (default 5000).
 */
public final class ClusterDrainBenchmark {

  private static final long BUCKET_DRAIN_MILLIS = 26_000;
  private static final int WARM_UP = 1_000;

  private ClusterDrainBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    int size = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int webhooks = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    TestPostgres database = new TestPostgres();
    database.beforeAll(null);
    Path dir = Files.createTempDirectory("leadrelay-cluster-drain");
    Vertx vertx = Vertx.vertx();
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    portal.limits(50, 2, 480, 600_000, 0.02);
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    AtomicInteger duplicates = new AtomicInteger();
    portal.onLead(fields -> {
      if (createdAt.putIfAbsent(String.valueOf(fields.getString("ORIGIN_ID")), System.nanoTime()) != null) {
        duplicates.incrementAndGet();
      }
    });
    try (RelayCluster cluster = new RelayCluster(dir, database.settings(), portal.webhookUrl(), size, 10,
        List.of("-Xmx256m"))) {
      cluster.startAll();
      RelayCluster.waitUntil(Duration.ofSeconds(60), () -> cluster.portalOwner().isPresent(),
          () -> "a node to own the portal");
      // A relay in production has run for days: a warm-up broadcast (to the same portal: the hand-over between nodes
      // is part of the hot path) lets every node's JIT compile it before the broadcast is timed. Then the bucket
      // drains: a new owner assumes it full (the previous owner may just have spent it) and lets it drain at 2/s,
      // 25 s for a bucket of 50, so the broadcast arrives at an owner that has owned the portal for a while.
      int warmUp = broadcast(vertx, cluster, WARM_UP, "Warm-up", "+7995");
      long warmDeadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (createdAt.size() < warmUp && System.nanoTime() < warmDeadline) {
        Thread.sleep(50);
      }
      Thread.sleep(BUCKET_DRAIN_MILLIS);
      createdAt.clear();
      duplicates.set(0);
      int warmUpRequests = portal.calls().size();
      int warmUpRefusals = portal.refusals();
      System.out.printf("machine: %d cores, Java %s, load average %s; %d node(s): java -Xmx256m -jar"
              + " target/leadrelay.jar, STORE=postgres, CLUSTER_MEMBERS of %d, owner lease 10 s%n",
          Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), loadAverage(), size, size);

      int accepted = broadcast(vertx, cluster, webhooks, "Broadcast", "+7996");
      // From the first POST, not from before the posting client existed: its creation is the harness's time.
      long start = FIRST_POSTED_AT.get();
      double postSeconds = (System.nanoTime() - start) / 1e9;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      while (createdAt.size() < accepted && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      long last = createdAt.values().stream().mapToLong(Long::longValue).max().orElse(start);
      double drain = (last - start) / 1e9;
      double minimum = Math.max(0, Math.ceil(accepted / 50.0) - 50) / 2.0;
      List<FakeBitrixPortal.Call> calls = portal.calls().subList(warmUpRequests, portal.calls().size());
      int requests = calls.size();
      int refusals = portal.refusals() - warmUpRefusals;
      System.out.printf("broadcast: %d webhooks posted round robin over %d node(s), 64 at a time, in %.1f s"
          + " (%.0f/s); %d accepted%n", webhooks, size, postSeconds, webhooks / postSeconds, accepted);
      System.out.printf("drain: last lead after %.1f s; theoretical minimum for the bucket %.1f s (ceil(%d/50)"
              + " requests - burst 50, at 2/s): %.3fx; portal requests %d, refused %d (%.2f%%), 429 blocks %d;"
              + " leads %d for %d accepted, duplicates %d%n", drain, minimum, accepted, drain / minimum, requests,
          refusals, 100.0 * refusals / Math.max(1, requests), portal.operatingTimeBlocks(),
          createdAt.size(), accepted, duplicates.get());
      // Where permits went: every request carrying less than a full batch, in order (an add alone carries one).
      List<Integer> partial = calls.stream()
          .filter(call -> call.method().equals("batch") || call.method().startsWith("crm.lead"))
          .map(call -> call.method().equals("batch") && call.body().getValue("cmd") instanceof JsonObject cmd
              ? cmd.size() : 1)
          .filter(leads -> leads < 50).toList();
      System.out.printf("requests carrying fewer than 50 leads: %d %s%n", partial.size(), partial);
      printTimeline(calls, start);
      for (RelayCluster.Node node : cluster.nodes()) {
        System.out.printf("%s RSS after the drain: %s%n", node.id, node.rss());
      }
      System.out.printf("load average at the end: %s%n", loadAverage());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      database.afterAll(null);
    }
  }

  /** When the broadcast's first webhook was posted (nanoTime): the drain is timed from there. */
  private static final AtomicLong FIRST_POSTED_AT = new AtomicLong();

  /** Posts the broadcast, 64 requests in flight, round robin over the nodes; returns how many were answered 200. */
  private static int broadcast(Vertx vertx, RelayCluster cluster, int webhooks, String name, String phonePrefix)
      throws InterruptedException {
    WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    CountDownLatch done = new CountDownLatch(webhooks);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    for (int sender = 0; sender < 64; sender++) {
      vertx.runOnContext(v -> postNext(client, cluster, webhooks, name, phonePrefix, next, accepted, done));
    }
    done.await(10, TimeUnit.MINUTES);
    client.close();
    return accepted.get();
  }

  private static void postNext(WebClient client, RelayCluster cluster, int webhooks, String name, String phonePrefix,
                               AtomicInteger next, AtomicInteger accepted, CountDownLatch done) {
    int n = next.getAndIncrement();
    if (n >= webhooks) {
      return;
    }
    if (n == 0) {
      FIRST_POSTED_AT.set(System.nanoTime());
    }
    RelayCluster.Node node = cluster.nodes().get(n % cluster.nodes().size());
    client.post(node.httpPort, "127.0.0.1", node.webhookUri().getPath())
        .putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer("{\"name\":\"" + name + " " + n + "\",\"phone\":\"" + phonePrefix + String.format("%07d", n)
            + "\"}"))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().statusCode() == 200) {
            accepted.incrementAndGet();
          }
          done.countDown();
          postNext(client, cluster, webhooks, name, phonePrefix, next, accepted, done);
        });
  }

  /**
   * Each request against the earliest the bucket allowed it (the first 50 at once, then one every 0.5 s after the
   * previous), so the time lost shows where it was lost: waiting for leads, or a request sent late.
   */
  static void printTimeline(List<FakeBitrixPortal.Call> calls, long start) {
    StringBuilder late = new StringBuilder();
    double level = 0;
    double previous = 0;
    int n = 0;
    for (FakeBitrixPortal.Call call : calls) {
      double at = (call.atNanos() - start) / 1e9;
      if (at < 0) {
        continue;
      }
      level = Math.max(0, level - (at - previous) * 2);
      if (System.getenv("TIMELINE") != null) {
        System.out.printf("T %d %.3f %s %d %.2f%n", n, at, call.method(),
            call.body().getValue("cmd") instanceof JsonObject cmd ? cmd.size() : 1, level);
      }
      if (n++ > 0 && at - previous > 0.75) {
        late.append(String.format("  #%d %s at %.2f s, %.2f s after the one before (bucket level then %.1f)%n", n,
            call.method(), at, at - previous, level));
      }
      level += 1;
      previous = at;
    }
    System.out.printf("requests %d, the last at %.2f s; gaps over 0.75 s:%n%s", n, previous, late);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
