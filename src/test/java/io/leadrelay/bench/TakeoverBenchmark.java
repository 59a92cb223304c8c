package io.leadrelay.bench;

import io.leadrelay.cluster.LeaseDatabase;
import io.leadrelay.cluster.PortalOwnership;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Owner takeover time (bench/takeover.sh): a node in a child JVM owns a portal, a standby here contends for it; the
 * child is SIGKILLed at a random moment between renewals, and the time until the standby owns the portal (its
 * onAcquired, when it may act) is measured. Five rounds, median printed. A measuring harness, not a test.
 * Arguments: lease seconds (default 10, the relay's default), rounds (default 5).
 */
public final class TakeoverBenchmark {

  private static final String PORTAL = "b24-bench.bitrix24.ru";

  private TakeoverBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    Duration lease = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 10);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Vertx vertx = Vertx.vertx();
    List<Double> takeovers = new ArrayList<>();
    try (LeaseDatabase database = new LeaseDatabase(vertx)) {
      PgConnectOptions options = database.options();
      String uri = "postgresql://" + options.getUser() + "@" + options.getHost() + ":" + options.getPort() + "/"
          + options.getDatabase();
      for (int round = 1; round <= rounds; round++) {
        Process victim = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
            OwnerProcess.class.getName(), uri, PORTAL, String.valueOf(lease.toSeconds()))
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("OWNER")) {
          // start-up lines
        }
        Promise<Long> acquired = Promise.promise();
        PortalOwnership standby = new PortalOwnership(options, "standby-" + round, List.of(PORTAL), lease)
            .onAcquired((portal, epoch) -> acquired.tryComplete(System.nanoTime()));
        String deployment = vertx.deployVerticle(standby).await(30, TimeUnit.SECONDS);
        // A random phase against the victim's renewals, as a real death has.
        long renewMillis = lease.toMillis() / 4;
        Thread.sleep(renewMillis + ThreadLocalRandom.current().nextLong(renewMillis));
        long killedAt = System.nanoTime();
        victim.destroyForcibly(); // SIGKILL
        long ownedAt = acquired.future().await(lease.toSeconds() * 3, TimeUnit.SECONDS);
        double seconds = (ownedAt - killedAt) / 1e9;
        takeovers.add(seconds);
        System.out.printf("round %d: %s, SIGKILL -> new owner acting: %.2f s%n", round, line, seconds);
        victim.waitFor();
        vertx.undeploy(deployment).await(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    Collections.sort(takeovers);
    System.out.printf("Owner takeover after SIGKILL, lease %d s: median %.2f s of %d (min %.2f, max %.2f)%n",
        lease.toSeconds(), takeovers.get(takeovers.size() / 2), takeovers.size(), takeovers.get(0),
        takeovers.get(takeovers.size() - 1));
  }

  private static String javaBin() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
