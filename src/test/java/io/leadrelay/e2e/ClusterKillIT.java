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
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.leadrelay.testing.RelayCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three relays behind a load balancer are one relay, through the death of the node that owns the portal: the fat
 * jar three times on loopback, one shared PostgreSQL database, one Hazelcast cluster, against a fake portal that
 * enforces the standard plan's request bucket (50 at 2/s). 3,000 webhooks arrive round robin over the three; the
 * portal's owner (the node holding its lease) is killed with SIGKILL mid-stream; another node must take the portal
 * over within the owner lease plus a quarter, and the killed node restarts and rejoins the cluster. Every webhook
 * answered 200 must end as exactly one lead, and the portal must refuse under 1% of the requests it gets: more than
 * one sender spending one bucket would be refused far more often.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterKillIT {

  @RegisterExtension
  static final TestPostgres DATABASE = new TestPostgres();

  private static final int WEBHOOKS = 3000;
  private static final int SENDERS = 6;
  /** Each sender's pause between webhooks: about 200 a second at most, a stream over 15-20 s. */
  private static final long SENDER_PAUSE_MS = 25;
  private static final int KILL_AFTER_ACCEPTED = 1000;
  private static final int OWNER_LEASE_SECONDS = 5;

  @TempDir
  Path dir;

  @Test
  void threeNodesMakeOneLeadPerWebhookThroughTheOwnersDeath(Vertx vertx) throws Exception {
    long began = System.nanoTime();
    FakeBitrixPortal portal = standardPortal(vertx);
    AtomicLong lastLeadAt = new AtomicLong();
    portal.onLead(lead -> lastLeadAt.set(System.nanoTime()));
    try (RelayCluster cluster = new RelayCluster(dir, DATABASE.settings(), portal.webhookUrl(), 3,
        OWNER_LEASE_SECONDS)) {
      try {
        cluster.startAll();
        waitUntil(Duration.ofSeconds(30), () -> cluster.portalOwner().isPresent(), () -> "a node to own the portal");
        long started = System.nanoTime();
        try (ClusterTraffic traffic = new ClusterTraffic(cluster, "Cluster", WEBHOOKS, SENDERS, SENDER_PAUSE_MS)) {
          waitUntil(Duration.ofSeconds(60), () -> traffic.accepted.size() >= KILL_AFTER_ACCEPTED,
              () -> KILL_AFTER_ACCEPTED + " webhooks to be accepted before the kill (" + traffic.accepted.size() + ")");

          // /health says which node owns the portal; the lease row in the database must agree.
          List<String> owners = cluster.ownersByHealth();
          assertEquals(List.of(cluster.portalOwner().orElseThrow()), owners, "the portal's owner by /health");
          RelayCluster.Node owner = cluster.node(owners.get(0));
          // What the owner had in hand: its backlog and requests in flight, and commands other nodes handed to it.
          List<String> inHand = cluster.leasedBy(owner);
          long killedAt = System.nanoTime();
          owner.kill();
          int acceptedAtKill = traffic.accepted.size();
          waitUntil(Duration.ofSeconds(OWNER_LEASE_SECONDS * 4L),
              () -> cluster.portalOwner().filter(id -> !id.equals(owner.id)).isPresent(),
              () -> "another node to own the portal after " + owner.id + " was killed");
          double takeover = (System.nanoTime() - killedAt) / 1e9;
          String newOwner = cluster.portalOwner().orElseThrow();
          long leadsBefore = portal.leads().size();
          waitUntil(Duration.ofSeconds(30), () -> portal.leads().size() > leadsBefore,
              () -> "a lead created by the new owner " + newOwner);
          double firstLeadAfterKill = (System.nanoTime() - killedAt) / 1e9;
          waitUntil(Duration.ofSeconds(60), () -> cluster.undelivered(inHand) == 0,
              () -> "the " + inHand.size() + " deliveries the killed owner had in hand to be delivered ("
                  + cluster.undelivered(inHand) + " left)");
          double inHandDelivered = (System.nanoTime() - killedAt) / 1e9;

          owner.start();
          waitUntil(Duration.ofSeconds(60), () -> rejoined(cluster, owner),
              () -> owner.id + " to show in every node's /health members after its restart");
          double rejoin = (System.nanoTime() - killedAt) / 1e9;
          boolean restartedMidStream = traffic.started() < WEBHOOKS;

          traffic.awaitSent(Duration.ofSeconds(120));
          double streamSeconds = (System.nanoTime() - started) / 1e9;
          waitUntil(Duration.ofSeconds(60), () -> traffic.allDelivered(portal),
              () -> "a lead for every accepted webhook (" + traffic.missing(portal).size() + " missing)");
          waitUntil(Duration.ofSeconds(30), () -> cluster.pending() == 0, () -> "the shared backlog to drain");
          double drained = (lastLeadAt.get() - started) / 1e9;
          int settled = portal.leads().size();
          Thread.sleep(1500); // several sweeps of three nodes: a late second lead would show here
          int lateLeads = portal.leads().size() - settled;

          Map<String, List<JsonObject>> byOrigin = ClusterTraffic.leadOrigins(portal);
          int duplicates = byOrigin.values().stream().mapToInt(leads -> leads.size() - 1).sum();
          int requests = portal.calls().size();
          int bucketRefusals = portal.refusals() - portal.operatingTimeBlocks();
          System.out.printf("ClusterKillIT: nodes=3 sent=%d accepted=%d leads=%d duplicates=%d missing=%d"
                  + " refused=%d/%d requests (%.2f%%) killed=%s at accepted=%d takeover=%.2fs (lease %ds) by %s"
                  + " first-lead-after-kill=%.2fs in-hand=%d delivered-after-kill=%.2fs rejoined-after=%.2fs"
                  + " restarted-mid-stream=%s stream=%.1fs last-lead=%.1fs elapsed=%ds%n", traffic.started(),
              traffic.accepted.size(), portal.leads().size(), duplicates, traffic.missing(portal).size(),
              bucketRefusals, requests, 100.0 * bucketRefusals / Math.max(1, requests), owner.id, acceptedAtKill,
              takeover, OWNER_LEASE_SECONDS, newOwner, firstLeadAfterKill, inHand.size(), inHandDelivered, rejoin,
              restartedMidStream, streamSeconds, drained,
              TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began));
          System.out.printf("ClusterKillIT: load balancer answers=%s refused-connections=%d lost-answers=%d%n",
              new TreeMap<>(cluster.answers), cluster.refusedConnections.get(), cluster.lostAnswers.get());

          assertTrue(traffic.acceptedTwice.isEmpty(), "one delivery id was given to two different webhooks: "
              + traffic.acceptedTwice);
          assertEquals(Map.of(), ClusterTraffic.duplicateOrigins(byOrigin), "ORIGIN_IDs with more than one lead");
          assertEquals(Map.of(), ClusterTraffic.duplicateNames(portal), "webhooks with more than one lead");
          assertEquals(List.of(), traffic.missing(portal), "accepted webhooks without a lead");
          assertEquals(0, lateLeads, "no lead appears once the backlog is empty");
          assertEquals(Optional.empty(), traffic.wrongLead(byOrigin), "a lead carries its own webhook's name");
          assertEquals(0, cluster.serverErrors(), "no webhook refused with a 5xx: " + cluster.answers);
          assertEquals(WEBHOOKS, traffic.accepted.size(), "every webhook accepted by some node (answers lost in the"
              + " kill are retried by the load balancer)");
          assertTrue(bucketRefusals < requests * 0.01, "one sender per portal keeps refusals under 1% of requests: "
              + bucketRefusals + " of " + requests);
          assertTrue(takeover <= OWNER_LEASE_SECONDS * 1.25 + 1.0, "the portal was taken over within the owner"
              + " lease plus a quarter (" + OWNER_LEASE_SECONDS * 1.25 + " s, +1 s for polling): " + takeover + " s");
          // The new owner re-drives what the dead one had in hand a quarter lease after the takeover, each looked up
          // first: the cluster carries on within seconds, not after the delivery leases or request timeouts. Each 50
          // of them take a look-up and a batch, two requests, a second of the standard bucket's drain (the new owner
          // assumes the bucket full); a kill during a burst leaves a few hundred in hand, a quiet moment a few.
          double bucketSeconds = Math.ceil(inHand.size() / 50.0) * 2 / 2.0;
          assertTrue(inHandDelivered <= takeover + OWNER_LEASE_SECONDS * 0.25 + bucketSeconds + 4.0, "the killed"
              + " owner's " + inHand.size() + " deliveries in hand were delivered " + inHandDelivered + " s after the"
              + " kill, the takeover " + takeover + " s (bound: takeover + a quarter lease + " + bucketSeconds
              + " s of bucket + 4 s)");
        }
      } catch (AssertionError | Exception e) {
        System.out.println("ClusterKillIT failed; the nodes' consoles:");
        cluster.printConsoleTails();
        throw e;
      }
    }
  }

  /** The standard plan's request bucket (50 at 2/s); operating time generous enough not to bind here. */
  static FakeBitrixPortal standardPortal(Vertx vertx) throws Exception {
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    portal.limits(50, 2, 480, 600_000, 0.02);
    return portal;
  }

  /**
   * The restarted node joined a cluster of all three (its start-up line) and is listed as a member by every node's
   * /health, itself included.
   */
  private static boolean rejoined(RelayCluster cluster, RelayCluster.Node restarted) {
    String joinedAll = "joined the cluster of " + cluster.nodes().size() + " member(s)";
    if (restarted.console().stream().noneMatch(line -> line.contains(joinedAll))) {
      return false;
    }
    try {
      for (RelayCluster.Node node : cluster.nodes()) {
        List<String> members = node.healthMembers();
        if (members.size() != cluster.nodes().size()
            || members.stream().noneMatch(restarted::describedBy)) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
