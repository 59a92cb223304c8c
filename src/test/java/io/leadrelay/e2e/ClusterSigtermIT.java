package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.RelayCluster;
import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.leadrelay.testing.RelayCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rolling restart's first step under load: one of three nodes, the portal's owner, gets SIGTERM while the load
 * balancer keeps sending to it. Requests it is answering complete; once it has closed its port the load balancer's
 * connections are refused and it moves on to the other nodes. No webhook is refused with a 5xx, every webhook the
 * stopping node accepted becomes exactly one lead (sent by the node that takes the portal over), and it ends with
 * "LeadRelay stopped cleanly".
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterSigtermIT {

  @RegisterExtension
  static final TestPostgres DATABASE = new TestPostgres();

  private static final int WEBHOOKS = 1200;
  private static final int SENDERS = 6;
  private static final long SENDER_PAUSE_MS = 25;
  private static final int TERMINATE_AFTER_ACCEPTED = 400;
  private static final int OWNER_LEASE_SECONDS = 5;

  @TempDir
  Path dir;

  /** Delivery id → webhook number, and which node answered 200 for it. */
  private final Map<String, Integer> accepted = new ConcurrentHashMap<>();
  private final Map<String, String> acceptedBy = new ConcurrentHashMap<>();
  private final Set<String> acceptedByStoppingNodeAfterSigterm = ConcurrentHashMap.newKeySet();
  private volatile String stopping;

  @Test
  void aNodeStoppedUnderLoadDeliversEverythingItAcceptedAndRefusesNothingWithA5xx(Vertx vertx) throws Exception {
    long began = System.nanoTime();
    FakeBitrixPortal portal = ClusterKillIT.portal(vertx);
    ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
    try (RelayCluster cluster = new RelayCluster(dir, DATABASE.settings(), portal.webhookUrl(), 3,
        OWNER_LEASE_SECONDS)) {
      try {
        cluster.startAll();
        waitUntil(Duration.ofSeconds(30), () -> cluster.portalOwner().isPresent(), () -> "a node to own the portal");
        AtomicInteger next = new AtomicInteger();
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
          running.add(senders.submit(() -> send(cluster, next)));
        }
        waitUntil(Duration.ofSeconds(60), () -> accepted.size() >= TERMINATE_AFTER_ACCEPTED,
            () -> TERMINATE_AFTER_ACCEPTED + " webhooks to be accepted before the SIGTERM");

        RelayCluster.Node owner = cluster.node(cluster.portalOwner().orElseThrow());
        stopping = owner.id;
        long terminatedAt = System.nanoTime();
        owner.terminate();
        int exitCode = owner.awaitExit(Duration.ofSeconds(40));
        double stopSeconds = (System.nanoTime() - terminatedAt) / 1e9;
        boolean stoppedCleanly = owner.console().stream().anyMatch(l -> l.contains("LeadRelay stopped cleanly"));
        waitUntil(Duration.ofSeconds(OWNER_LEASE_SECONDS * 4L),
            () -> cluster.portalOwner().filter(id -> !id.equals(owner.id)).isPresent(),
            () -> "another node to own the portal after " + owner.id + " stopped");
        double handover = (System.nanoTime() - terminatedAt) / 1e9;

        for (java.util.concurrent.Future<?> sender : running) {
          sender.get(120, TimeUnit.SECONDS);
        }
        waitUntil(Duration.ofSeconds(60), () -> ClusterKillIT.leadOrigins(portal).keySet()
                .containsAll(accepted.keySet()),
            () -> "a lead for every accepted webhook (" + missing(portal).size() + " missing)");
        waitUntil(Duration.ofSeconds(30), () -> cluster.pending() == 0, () -> "the shared backlog to drain");

        Map<String, List<JsonObject>> byOrigin = ClusterKillIT.leadOrigins(portal);
        long byStopped = acceptedBy.values().stream().filter(owner.id::equals).count();
        System.out.printf("ClusterSigtermIT: nodes=3 accepted=%d leads=%d duplicates=%d missing=%d"
                + " stopped=%s accepted-by-it=%d of-which-after-SIGTERM=%d exit=%d stopped-cleanly=%s stop=%.2fs"
                + " handover=%.2fs 5xx=%d answers=%s refused-connections=%d lost-answers=%d elapsed=%ds%n",
            accepted.size(), portal.leads().size(),
            byOrigin.values().stream().mapToInt(l -> l.size() - 1).sum(), missing(portal).size(), owner.id,
            byStopped, acceptedByStoppingNodeAfterSigterm.size(), exitCode, stoppedCleanly, stopSeconds, handover,
            cluster.serverErrors(), new TreeMap<>(cluster.answers), cluster.refusedConnections.get(),
            cluster.lostAnswers.get(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began));

        assertEquals(0, cluster.serverErrors(), "no webhook refused with a 5xx: " + cluster.answers);
        assertEquals(Map.of(), ClusterKillIT.duplicateOrigins(byOrigin), "ORIGIN_IDs with more than one lead");
        assertEquals(List.of(), missing(portal), "accepted webhooks without a lead");
        assertTrue(byStopped > 0, "the stopped node had accepted webhooks");
        assertTrue(stoppedCleanly, owner.id + " ended with \"LeadRelay stopped cleanly\"");
        assertEquals(0, exitCode, owner.id + " exit code after SIGTERM");
        assertEquals(WEBHOOKS, accepted.size(), "every webhook accepted by some node");
      } catch (AssertionError | Exception e) {
        System.out.println("ClusterSigtermIT failed; the nodes' consoles:");
        cluster.printConsoleTails();
        throw e;
      }
    } finally {
      senders.shutdownNow();
    }
  }

  private void send(RelayCluster cluster, AtomicInteger next) {
    try {
      for (int n = next.getAndIncrement(); n < WEBHOOKS; n = next.getAndIncrement()) {
        String body = "{\"name\":\"Sigterm " + n + "\",\"phone\":\"+7997" + String.format("%07d", n) + "\"}";
        Optional<RelayCluster.Answer> answer = cluster.post(body, Duration.ofSeconds(60));
        if (answer.isPresent() && answer.get().status() == 200) {
          String id = new JsonObject(answer.get().body()).getString("id");
          accepted.put(id, n);
          acceptedBy.put(id, answer.get().node().id);
          if (answer.get().node().id.equals(stopping)) {
            acceptedByStoppingNodeAfterSigterm.add(id);
          }
        }
        Thread.sleep(SENDER_PAUSE_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private List<String> missing(FakeBitrixPortal portal) {
    Set<String> origins = ClusterKillIT.leadOrigins(portal).keySet();
    return accepted.keySet().stream().filter(id -> !origins.contains(id)).sorted().toList();
  }
}
