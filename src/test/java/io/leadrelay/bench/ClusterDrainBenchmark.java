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

/**
 * Drain time of N relays sharing one PostgreSQL database (bench/cluster-drain.sh): the fat jar N times (N = 1 is one
 * node on PostgreSQL, clustered with itself; N = 3 a cluster of three), against a fake portal that enforces the
 * standard plan (bucket 50 at 2/s). A broadcast of W webhooks is posted as fast as the nodes take them, round robin
 * over the nodes, 64 at a time; then the time until the last lead exists is set against the bucket's theoretical
 * minimum, with the portal's refusals, duplicates and each node's RSS. The broadcast starts 26 s after a node owns
 * the portal: a new owner assumes the bucket full, and it takes 25 s to drain. A measuring harness, not a test.
 * Arguments: nodes (default 3), webhooks (default 5000).
 */
public final class ClusterDrainBenchmark {

  private static final long BUCKET_DRAIN_MILLIS = 26_000;

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
      // A new owner assumes the portal's bucket full (the previous owner may just have spent it) and lets it drain at
      // 2/s: 25 s for a bucket of 50. A broadcast arrives at an owner that has owned the portal for a while.
      Thread.sleep(BUCKET_DRAIN_MILLIS);
      System.out.printf("machine: %d cores, Java %s, load average %s; %d node(s): java -Xmx256m -jar"
              + " target/leadrelay.jar, STORE=postgres, CLUSTER_MEMBERS of %d, owner lease 10 s%n",
          Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), loadAverage(), size, size);

      long start = System.nanoTime();
      int accepted = broadcast(vertx, cluster, webhooks);
      double postSeconds = (System.nanoTime() - start) / 1e9;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      while (createdAt.size() < accepted && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      long last = createdAt.values().stream().mapToLong(Long::longValue).max().orElse(start);
      double drain = (last - start) / 1e9;
      double minimum = Math.max(0, Math.ceil(accepted / 50.0) - 50) / 2.0;
      int requests = portal.calls().size();
      System.out.printf("broadcast: %d webhooks posted round robin over %d node(s), 64 at a time, in %.1f s"
          + " (%.0f/s); %d accepted%n", webhooks, size, postSeconds, webhooks / postSeconds, accepted);
      System.out.printf("drain: last lead after %.1f s; theoretical minimum for the bucket %.1f s (ceil(%d/50)"
              + " requests - burst 50, at 2/s): %.3fx; portal requests %d, refused %d (%.2f%%), 429 blocks %d;"
              + " leads %d for %d accepted, duplicates %d%n", drain, minimum, accepted, drain / minimum, requests,
          portal.refusals(), 100.0 * portal.refusals() / Math.max(1, requests), portal.operatingTimeBlocks(),
          createdAt.size(), accepted, duplicates.get());
      // Where permits went: every request carrying less than a full batch, in order (an add alone carries one).
      List<Integer> partial = portal.calls().stream()
          .filter(call -> call.method().equals("batch") || call.method().startsWith("crm.lead"))
          .map(call -> call.method().equals("batch") && call.body().getValue("cmd") instanceof JsonObject cmd
              ? cmd.size() : 1)
          .filter(leads -> leads < 50).toList();
      System.out.printf("requests carrying fewer than 50 leads: %d %s%n", partial.size(), partial);
      for (RelayCluster.Node node : cluster.nodes()) {
        System.out.printf("%s RSS after the drain: %s%n", node.id, node.rss());
      }
      System.out.printf("load average at the end: %s%n", loadAverage());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      database.afterAll(null);
    }
  }

  /** Posts the broadcast, 64 requests in flight, round robin over the nodes; returns how many were answered 200. */
  private static int broadcast(Vertx vertx, RelayCluster cluster, int webhooks) throws InterruptedException {
    WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    CountDownLatch done = new CountDownLatch(webhooks);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    for (int sender = 0; sender < 64; sender++) {
      vertx.runOnContext(v -> postNext(client, cluster, webhooks, next, accepted, done));
    }
    done.await(10, TimeUnit.MINUTES);
    client.close();
    return accepted.get();
  }

  private static void postNext(WebClient client, RelayCluster cluster, int webhooks, AtomicInteger next,
                               AtomicInteger accepted, CountDownLatch done) {
    int n = next.getAndIncrement();
    if (n >= webhooks) {
      return;
    }
    RelayCluster.Node node = cluster.nodes().get(n % cluster.nodes().size());
    client.post(node.httpPort, "127.0.0.1", node.webhookUri().getPath())
        .putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer("{\"name\":\"Broadcast " + n + "\",\"phone\":\"+7996" + String.format("%07d", n)
            + "\"}"))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().statusCode() == 200) {
            accepted.incrementAndGet();
          }
          done.countDown();
          postNext(client, cluster, webhooks, next, accepted, done);
        });
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
