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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

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

  @Test
  void aNodeStoppedUnderLoadDeliversEverythingItAcceptedAndRefusesNothingWithA5xx(Vertx vertx) throws Exception {
    long began = System.nanoTime();
    FakeBitrixPortal portal = ClusterKillIT.standardPortal(vertx);
    try (RelayCluster cluster = new RelayCluster(dir, DATABASE.settings(), portal.webhookUrl(), 3,
        OWNER_LEASE_SECONDS)) {
      try {
        cluster.startAll();
        waitUntil(Duration.ofSeconds(30), () -> cluster.portalOwner().isPresent(), () -> "a node to own the portal");
        try (ClusterTraffic traffic = new ClusterTraffic(cluster, "Sigterm", WEBHOOKS, SENDERS, SENDER_PAUSE_MS)) {
          waitUntil(Duration.ofSeconds(60), () -> traffic.accepted.size() >= TERMINATE_AFTER_ACCEPTED,
              () -> TERMINATE_AFTER_ACCEPTED + " webhooks to be accepted before the SIGTERM");

          RelayCluster.Node owner = cluster.node(cluster.portalOwner().orElseThrow());
          long acceptedByItBefore = acceptedBy(traffic, owner);
          long terminatedAt = System.nanoTime();
          owner.terminate();
          int exitCode = owner.awaitExit(Duration.ofSeconds(40));
          double stopSeconds = (System.nanoTime() - terminatedAt) / 1e9;
          long acceptedByItAfterSigterm = acceptedBy(traffic, owner) - acceptedByItBefore;
          boolean stoppedCleanly = owner.console().stream().anyMatch(l -> l.contains("LeadRelay stopped cleanly"));
          waitUntil(Duration.ofSeconds(OWNER_LEASE_SECONDS * 4L),
              () -> cluster.portalOwner().filter(id -> !id.equals(owner.id)).isPresent(),
              () -> "another node to own the portal after " + owner.id + " stopped");
          double handover = (System.nanoTime() - terminatedAt) / 1e9;

          traffic.awaitSent(Duration.ofSeconds(120));
          waitUntil(Duration.ofSeconds(60), () -> traffic.allDelivered(portal),
              () -> "a lead for every accepted webhook (" + traffic.missing(portal).size() + " missing)");
          waitUntil(Duration.ofSeconds(30), () -> cluster.pending() == 0, () -> "the shared backlog to drain");

          Map<String, List<JsonObject>> byOrigin = ClusterTraffic.leadOrigins(portal);
          long byStopped = acceptedBy(traffic, owner);
          System.out.printf("ClusterSigtermIT: nodes=3 accepted=%d leads=%d duplicates=%d missing=%d"
                  + " stopped=%s accepted-by-it=%d of-which-after-SIGTERM=%d exit=%d stopped-cleanly=%s"
                  + " stop=%.2fs handover=%.2fs 5xx=%d answers=%s refused-connections=%d lost-answers=%d"
                  + " elapsed=%ds%n",
              traffic.accepted.size(), portal.leads().size(),
              byOrigin.values().stream().mapToInt(l -> l.size() - 1).sum(), traffic.missing(portal).size(),
              owner.id, byStopped, acceptedByItAfterSigterm, exitCode, stoppedCleanly, stopSeconds, handover,
              cluster.serverErrors(), new TreeMap<>(cluster.answers), cluster.refusedConnections.get(),
              cluster.lostAnswers.get(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began));

          assertEquals(0, cluster.serverErrors(), "no webhook refused with a 5xx: " + cluster.answers);
          assertEquals(Map.of(), ClusterTraffic.duplicateOrigins(byOrigin), "ORIGIN_IDs with more than one lead");
          assertEquals(Map.of(), ClusterTraffic.duplicateNames(portal), "webhooks with more than one lead");
          assertEquals(List.of(), traffic.missing(portal), "accepted webhooks without a lead");
          assertTrue(byStopped > 0, "the stopped node had accepted webhooks");
          assertTrue(stoppedCleanly, owner.id + " ended with \"LeadRelay stopped cleanly\"");
          // On the shared store the start-up line names the database (masked), not the unused DATA_DIR.
          assertTrue(owner.console().stream().anyMatch(l -> l.contains("LeadRelay listening on")
              && l.contains("deliveries in postgresql://") && !l.contains("data in")), owner.id + "'s start-up line");
          // The JVM ends with 128 + 15 after running its shutdown hooks for a SIGTERM; a crash would differ.
          assertEquals(143, exitCode, owner.id + " exit status after SIGTERM");
          assertEquals(WEBHOOKS, traffic.accepted.size(), "every webhook accepted by some node");
        }
      } catch (AssertionError | Exception e) {
        System.out.println("ClusterSigtermIT failed; the nodes' consoles:");
        cluster.printConsoleTails();
        throw e;
      }
    }
  }

  private static long acceptedBy(ClusterTraffic traffic, RelayCluster.Node node) {
    return traffic.acceptedBy.values().stream().filter(node.id::equals).count();
  }
}
