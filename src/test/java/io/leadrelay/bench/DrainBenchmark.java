package io.leadrelay.bench;

import io.leadrelay.testing.FakeBitrixPortal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The drain benchmark (bench/drain.sh): the fat jar as a child process, as operators run it, against a fake portal
 * that enforces Bitrix24's standard limits (bucket 50 at 2 per second; crm.lead.add's operating time in a sliding
 * 10-minute window). Measures, on this machine:
 * <ol>
 *   <li>a lone lead at idle: webhook posted → lead exists at the portal, against one bare portal round trip;</li>
 *   <li>a broadcast: N webhooks posted as fast as the relay takes them (accepted per second, latency percentiles),
 *   then the time until the last lead exists, against the bucket's theoretical minimum; refusals; 429 blocks;
 *   duplicates; the relay's peak RSS.</li>
 * </ol>
 * A measuring harness, not a test: it asserts nothing and never runs in {@code mvn verify}.
 */
public final class DrainBenchmark {

  private static final String SECRET = "bench-secret-0123456789";

  /**
   * {@code DrainBenchmark [seconds=1] [costPerLead=0.02] [flags]}: without flags, wrk posts for {@code seconds}.
   * Flags: {@code --spread=N} a Java client posts N webhooks evenly over {@code seconds} (a broadcast as BotHelp
   * sends it, in a few seconds); {@code --at-once=N} posts N webhooks as fast as the relay takes them;
   * {@code --operating=LIMIT/WINDOW} the portal's operating-time limit is LIMIT seconds per WINDOW seconds (the
   * relay is told the limit, as an operator would set BITRIX_OPERATING_LIMIT_SECONDS); {@code --no-lone} skips
   * the lone-lead latency; {@code --no-warm-up} skips the warm-up; {@code --repeat=POLICY} (with --spread or
   * --at-once) then posts the same broadcast, of other subscribers, to a second integration on the same portal
   * with that {@code repeat} policy, once the bucket has drained, and prints both lead rates and their ratio.
   */
  public static void main(String[] args) throws Exception {
    List<String> positional = java.util.Arrays.stream(args).filter(a -> !a.startsWith("--")).toList();
    Map<String, String> flags = new java.util.HashMap<>();
    java.util.Arrays.stream(args).filter(a -> a.startsWith("--")).forEach(a -> {
      int eq = a.indexOf('=');
      flags.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "" : a.substring(eq + 1));
    });
    double seconds = positional.size() > 0 ? Double.parseDouble(positional.get(0)) : 1;
    double costPerLead = positional.size() > 1 ? Double.parseDouble(positional.get(1)) : 0.02;
    double operatingLimit = 480;
    long windowMillis = 600_000;
    if (flags.containsKey("operating")) {
      String[] parts = flags.get("operating").split("/");
      operatingLimit = Double.parseDouble(parts[0]);
      windowMillis = (long) (Double.parseDouble(parts[1]) * 1000);
    }
    Path jar = Path.of("target/leadrelay.jar").toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("Build the jar first: mvn -q -DskipTests package");
    }
    Path dir = Files.createTempDirectory("leadrelay-drain");
    Vertx vertx = Vertx.vertx();
    FakeBitrixPortal portal = await(FakeBitrixPortal.start(vertx));
    portal.limits(50, 2, operatingLimit, windowMillis, costPerLead);
    Map<String, Long> createdAt = new ConcurrentHashMap<>();
    AtomicInteger duplicates = new AtomicInteger();
    portal.onLead(fields -> {
      long now = System.nanoTime();
      createdAt.putIfAbsent(fields.getString("NAME"), now);
      String origin = fields.getString("ORIGIN_ID");
      if (origin != null && createdAt.putIfAbsent("origin:" + origin, now) != null) {
        duplicates.incrementAndGet();
      }
    });
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.toString()).directory(dir.toFile())
        .redirectOutput(dir.resolve("relay.out").toFile()).redirectError(dir.resolve("relay.err").toFile());
    builder.environment().put("HTTP_HOST", "127.0.0.1");
    builder.environment().put("HTTP_PORT", String.valueOf(port));
    builder.environment().put("BOTHELP_SECRET", SECRET);
    builder.environment().put("BITRIX_WEBHOOK_URL", portal.webhookUrl());
    builder.environment().put("DATA_DIR", dir.resolve("data").toString());
    builder.environment().put("LOG_DIR", dir.resolve("logs").toString());
    builder.environment().put("BITRIX_OPERATING_LIMIT_SECONDS", String.valueOf(Math.round(operatingLimit)));
    // A second, dry-run integration takes the warm-up traffic, so the JIT has compiled the hot path before the
    // broadcast is timed (a relay in production runs for days) without sending warm-up leads to the portal.
    Path config = dir.resolve("config.json");
    JsonObject integrations = new JsonObject()
        .put("default", new JsonObject())
        .put("warmup", new JsonObject().put("secret", SECRET));
    if (flags.containsKey("repeat")) {
      integrations.put("repeat", new JsonObject().put("secret", SECRET).put("repeat", flags.get("repeat"))
          .put("portal", new JsonObject().put("webhookUrl", portal.webhookUrl())));
    }
    Files.writeString(config, new JsonObject().put("integrations", integrations).encode());
    builder.environment().put("CONFIG_PATH", config.toString());
    Process relay = builder.start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      URI webhook = URI.create("http://127.0.0.1:" + port + "/webhook/default/" + SECRET);
      waitLive(http, port);
      System.out.printf("machine: %d cores, %s; relay: java -Xmx256m -jar target/leadrelay.jar (defaults:"
          + " standard plan, batches of 50, STORE_SYNCHRONOUS=FULL)%n", Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"));
      System.out.printf("portal: bucket 50 at 2/s, crm.lead.add costs %.3f s of operating time per lead, limit"
          + " %.0f s per %d s; load average %s%n", costPerLead, operatingLimit, windowMillis / 1000,
          Files.readString(Path.of("/proc/loadavg")).trim());

      if (!flags.containsKey("no-lone")) {
        loneLeads(http, webhook, portal, createdAt);
      }
      if (!flags.containsKey("no-warm-up")) {
        warmUp(vertx, port);
      }
      Broadcast shape = flags.containsKey("spread") ? new Broadcast(Integer.parseInt(flags.get("spread")), seconds)
          : flags.containsKey("at-once") ? new Broadcast(Integer.parseInt(flags.get("at-once")), 0) : null;
      double plain = broadcast(vertx, port, seconds, shape, portal, createdAt, duplicates, costPerLead,
          operatingLimit, windowMillis, "default", 0);
      if (flags.containsKey("repeat") && shape != null) {
        // The same bucket, emptied again: 50 requests drain in 25 s.
        Thread.sleep(30_000);
        System.out.printf("the same broadcast, other subscribers, to an integration with repeat=%s; load average"
            + " %s%n", flags.get("repeat"), Files.readString(Path.of("/proc/loadavg")).trim());
        double repeat = broadcast(vertx, port, seconds, shape, portal, createdAt, duplicates, costPerLead,
            operatingLimit, windowMillis, "repeat", 1_000_000);
        System.out.printf("lead rate: plain %.1f leads/s, repeat=%s %.1f leads/s: %.0f%% of plain%n", plain,
            flags.get("repeat"), repeat, 100 * repeat / plain);
      }
      System.out.printf("relay peak RSS (VmHWM): %s%n", peakRss(relay.pid()));
    } finally {
      relay.destroy();
      relay.waitFor(10, TimeUnit.SECONDS);
      relay.destroyForcibly();
      vertx.close();
    }
  }

  /** One bare round trip to the portal, then single webhooks at idle, each timed until its lead exists. */
  private static void loneLeads(HttpClient http, URI webhook, FakeBitrixPortal portal, Map<String, Long> createdAt)
      throws Exception {
    List<Double> roundTrips = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long start = System.nanoTime();
      http.send(HttpRequest.newBuilder(URI.create(portal.webhookUrl() + "crm.lead.add.json"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"fields\":{\"NAME\":\"probe " + i + "\"}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      roundTrips.add((System.nanoTime() - start) / 1e6);
      Thread.sleep(500);
    }
    List<Double> latencies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String name = "lone " + i;
      long start = System.nanoTime();
      http.send(HttpRequest.newBuilder(webhook).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!createdAt.containsKey(name) && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      latencies.add((createdAt.getOrDefault(name, System.nanoTime()) - start) / 1e6);
      // Idle means idle: let the bucket drain between leads, as between subscribers on a quiet day.
      Thread.sleep(1000);
    }
    System.out.printf("lone lead at idle: median %.1f ms, p90 %.1f ms from POST to lead; bare portal round trip"
        + " median %.1f ms; added by the relay: %.1f ms%n", pct(latencies, 50), pct(latencies, 90),
        pct(roundTrips, 50), pct(latencies, 50) - pct(roundTrips, 50));
  }

  private static void warmUp(Vertx vertx, int port) throws Exception {
    WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    CountDownLatch done = new CountDownLatch(30_000);
    AtomicInteger next = new AtomicInteger();
    for (int sender = 0; sender < 64; sender++) {
      vertx.runOnContext(v -> warmUpNext(client, port, next, done));
    }
    done.await(5, TimeUnit.MINUTES);
    client.close();
  }

  private static void warmUpNext(WebClient client, int port, AtomicInteger next, CountDownLatch done) {
    int i = next.getAndIncrement();
    if (i >= 30_000) {
      return;
    }
    client.post(port, "127.0.0.1", "/webhook/warmup/" + SECRET).putHeader("Content-Type", "application/json")
        .sendBuffer(Buffer.buffer("{\"name\":\"warm-up " + i + "\"}"))
        .onComplete(ar -> {
          done.countDown();
          warmUpNext(client, port, next, done);
        });
  }

  /**
   * The broadcast, posted by wrk (bench/ingest.lua: distinct bodies) for a few seconds as fast as the relay takes
   * them, while the relay is already draining: accepted per second come from wrk; the drain ends when every
   * accepted webhook's lead exists.
   */
  /** @return leads per second: accepted webhooks over the time until the last lead existed */
  private static double broadcast(Vertx vertx, int port, double seconds, Broadcast shape, FakeBitrixPortal portal,
                                  Map<String, Long> createdAt, AtomicInteger duplicates, double costPerLead,
                                  double operatingLimit, long windowMillis, String integration, int subscribers)
      throws Exception {
    int callsBefore = portal.calls().size();
    int refusalsBefore = portal.refusals();
    int blocksBefore = portal.operatingTimeBlocks();
    long leadsBefore = createdAt.keySet().stream().filter(k -> k.startsWith("origin:")).count();
    String url = "http://127.0.0.1:" + port + "/webhook/default/" + SECRET;
    long start = System.nanoTime();
    long accepted;
    if (shape != null) {
      // The posting client on a Vert.x of its own: on the fake portal's event loop, a burst of posts would delay
      // the portal's answers and its bucket's count, which the relay would see as jitter. The broadcast begins when
      // its first webhook is posted, not while the client's Vert.x starts (a few hundred ms on a loaded machine).
      Vertx clients = Vertx.vertx();
      try {
        accepted = post(clients, port, shape, integration, subscribers);
        start = FIRST_POSTED_AT.get();
      } finally {
        clients.close();
      }
    } else {
      accepted = wrk(url, seconds);
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
    while (createdAt.keySet().stream().filter(k -> k.startsWith("origin:")).count() - leadsBefore < accepted
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    long last = createdAt.entrySet().stream().filter(e -> e.getKey().startsWith("origin:"))
        .mapToLong(Map.Entry::getValue).max().orElse(start);
    double drainSeconds = (last - start) / 1e9;
    int requests = portal.calls().size() - callsBefore;
    double bucketMinimum = Math.max(0, Math.ceil(accepted / 50.0) - 50) / 2.0;
    // The operating-time window: the limit's worth goes at once, then each lead's charge frees a window later.
    double operatingMinimum = Math.max(0, Math.ceil(accepted * costPerLead / operatingLimit - 1e-9) - 1)
        * windowMillis / 1000.0;
    double minimum = Math.max(bucketMinimum, operatingMinimum);
    long leads = createdAt.keySet().stream().filter(k -> k.startsWith("origin:")).count() - leadsBefore;
    // Where permits went: every request carrying less than a full batch, in order (an add alone carries one).
    List<Integer> partial = portal.calls().subList(callsBefore, portal.calls().size()).stream()
        .map(call -> call.method().equals("batch") && call.body().getValue("cmd") instanceof JsonObject cmd
            ? cmd.size() : 1)
        .filter(size -> size < 50).toList();
    System.out.printf("requests carrying fewer than 50 leads: %d %s%n", partial.size(), partial);
    ClusterDrainBenchmark.printTimeline(portal.calls().subList(callsBefore, portal.calls().size()), start);
    if (shape != null && !ACCEPTED_AT.isEmpty()) {
      System.out.printf("first webhook answered 200 at %.3f s%n",
          (ACCEPTED_AT.stream().mapToLong(Long::longValue).min().getAsLong() - start) / 1e9);
    }
    if (shape != null && !ACCEPTED_AT.isEmpty()) {
      double arrival = arrivalMinimum(start);
      System.out.printf("minimum for the broadcast as it arrived (full batches, each after its last lead was"
          + " answered and within the bucket): %.1f s; drain against it: %.3fx%n", arrival,
          (createdAt.entrySet().stream().filter(e -> e.getKey().startsWith("origin:")).mapToLong(Map.Entry::getValue)
              .max().orElse(start) - start) / 1e9 / arrival);
    }
    System.out.printf("drain: last lead after %.1f s; theoretical minimum %.1f s (bucket: ceil(%d/50) requests"
        + " - burst 50, at 2/s = %.1f s; operating time: %.1f s): %.3fx; portal requests %d, refused %d (%.2f%%),"
        + " 429 blocks %d; leads %d for %d accepted, duplicates %d%n", drainSeconds, minimum, accepted,
        bucketMinimum, operatingMinimum, drainSeconds / minimum, requests, portal.refusals() - refusalsBefore,
        100.0 * (portal.refusals() - refusalsBefore) / Math.max(1, requests),
        portal.operatingTimeBlocks() - blocksBefore, leads, accepted, duplicates.get());
    return accepted / drainSeconds;
  }

  /** When the Java client posted its broadcast's first webhook (nanoTime): the drain is timed from there. */
  private static final AtomicLong FIRST_POSTED_AT = new AtomicLong();

  /** When each webhook of the Java client's broadcast was answered 200 (nanoTime). */
  private static final java.util.Queue<Long> ACCEPTED_AT = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /**
   * The bucket's minimum for the broadcast as it actually arrived (on a loaded machine the client may take far
   * longer than asked): request j, carrying leads 50(j-1)+1..50j, cannot go before its last lead was answered, nor
   * before the one before it, nor before (j - burst) / rate seconds (the bucket, empty at the start). Seconds from
   * {@code start}.
   */
  private static double arrivalMinimum(long start) {
    List<Long> at = new ArrayList<>(ACCEPTED_AT);
    Collections.sort(at);
    double t = 0;
    int requests = (at.size() + 49) / 50;
    for (int j = 1; j <= requests; j++) {
      double arrived = (at.get(Math.min(50 * j, at.size()) - 1) - start) / 1e9;
      t = Math.max(t, Math.max(arrived, Math.max(0, j - 50) / 2.0));
    }
    return t;
  }

  /** How a Java client posts a broadcast: {@code count} webhooks evenly over {@code seconds} (0: at once). */
  private record Broadcast(int count, double seconds) {
  }

  /**
   * Posts the broadcast from a Vert.x client (64 connections, distinct bodies), each webhook at its due time; the
   * number accepted (200).
   */
  private static long post(Vertx vertx, int port, Broadcast shape, String integration, int subscribers)
      throws Exception {
    ACCEPTED_AT.clear();
    WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(64));
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(shape.count());
    long start = System.nanoTime();
    FIRST_POSTED_AT.set(start);
    long run = System.currentTimeMillis();
    vertx.setPeriodic(1, 5, timer -> {
      double elapsed = (System.nanoTime() - start) / 1e9;
      int due = shape.seconds() <= 0 ? shape.count()
          : (int) Math.min(shape.count(), Math.ceil(shape.count() * elapsed / shape.seconds()));
      // At most 64 in flight at once when posting "at once", as wrk -c64 would.
      while (next.get() < due && (shape.seconds() > 0 || next.get() - (shape.count() - done.getCount()) < 64)) {
        int i = next.getAndIncrement();
        if (i == 0) {
          FIRST_POSTED_AT.set(System.nanoTime());
        }
        // Each subscriber a phone of their own: with a repeat policy one phone would be one subscriber.
        client.post(port, "127.0.0.1", "/webhook/" + integration + "/" + SECRET)
            .putHeader("Content-Type", "application/json")
            .sendBuffer(Buffer.buffer("{\"bothelp_user_id\":" + (run * 100_000 + i) + ",\"name\":\"broadcast "
                + integration + " " + i + "\",\"phone\":\"7" + (9_000_000_000L + subscribers + i) + "\"}"))
            .onComplete(ar -> {
              if (ar.succeeded() && ar.result().statusCode() == 200) {
                accepted.incrementAndGet();
                ACCEPTED_AT.add(System.nanoTime());
              }
              done.countDown();
            });
      }
      if (next.get() >= shape.count()) {
        vertx.cancelTimer(timer);
      }
    });
    done.await(5, TimeUnit.MINUTES);
    double took = (System.nanoTime() - start) / 1e9;
    System.out.printf("broadcast: a Java client posted %d webhooks over %.1f s (%s): %d accepted%n", shape.count(),
        took, shape.seconds() > 0 ? "spread evenly over " + shape.seconds() + " s" : "as fast as taken",
        accepted.get());
    client.close();
    return accepted.get();
  }

  private static long wrk(String url, double seconds) throws Exception {
    Process wrk = new ProcessBuilder("wrk", "-t2", "-c64", "-d" + Math.max(1, Math.round(seconds)) + "s", "--latency",
        "-s", "bench/ingest.lua", url, "--", "7").redirectErrorStream(true).start();
    String out = new String(wrk.getInputStream().readAllBytes());
    wrk.waitFor();
    java.util.regex.Matcher total = java.util.regex.Pattern.compile("(\\d+) requests in").matcher(out);
    java.util.regex.Matcher non2xx = java.util.regex.Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
    java.util.regex.Matcher summary = java.util.regex.Pattern.compile("accepted/s: .*").matcher(out);
    long accepted = (total.find() ? Long.parseLong(total.group(1)) : 0) - (non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0);
    System.out.printf("broadcast: wrk -t2 -c64 -d%ds -s bench/ingest.lua while draining: %s; %d accepted%n",
        Math.max(1, Math.round(seconds)), summary.find() ? summary.group() : out, accepted);
    return accepted;
  }

  private static void waitLive(HttpClient http, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/live")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the relay did not start");
  }

  private static String peakRss(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
        .filter(line -> line.startsWith("VmHWM")).map(line -> line.substring(6).trim()).findFirst().orElse("?");
  }

  private static double pct(List<Double> values, int percentile) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    if (sorted.isEmpty()) {
      return 0;
    }
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private DrainBenchmark() {
  }
}
