package io.leadrelay.cluster;

import io.leadrelay.config.ClusterConfig;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.store.PgSettings;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FreePorts;
import io.leadrelay.testing.TestPostgres;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two relays on one PostgreSQL store act as one: webhooks arriving at either node become exactly one lead each,
 * only the portal's owner talks to the portal (the other node's success log stays empty), /health says who owns
 * what, and when the owner stops the other node takes the portal over and carries on. Once without a clustered bus
 * (the standby leaves its leads in the store for the owner) and once with one (it hands them over the bus). And an
 * owner cut off from the database (a stalled or partitioned node, which from the database's side is a dead one)
 * stops sending before its lease runs out, and the other node takes over: nothing lost, nothing doubled.
 */
class OnePortalOwnerTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  private static final Duration OWNER_LEASE = Duration.ofSeconds(3);
  private static final long WAIT = 60;

  @TempDir
  Path dir;

  @Test
  void twoNodesSharingTheStoreSendThroughTheOwnerOnly() throws Exception {
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      bothNodesActAsOneRelay(first, second);
    } finally {
      second.close().await(30, TimeUnit.SECONDS);
      first.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoClusteredNodesHandLeadsToTheOwnerOverTheBus() throws Exception {
    List<ClusterNode> pair = clusterOfTwo();
    ClusterNode a = pair.get(0);
    ClusterNode b = pair.get(1);
    try {
      JsonObject standbyView = bothNodesActAsOneRelay(a.vertx(), b.vertx());
      assertEquals("cluster", standbyView.getString("mode"), standbyView.encode());
      assertEquals(2, standbyView.getJsonArray("members").size(), standbyView.encode());
    } finally {
      b.vertx().close().await(30, TimeUnit.SECONDS);
      a.vertx().close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void nodesWhoseMemberListsNeverMeetAreToldSoAndStillDeliverEveryLead() throws Exception {
    // Each node lists only itself (an operator's CLUSTER_MEMBERS mistake): two clusters of one on one database.
    int portA = FreePorts.pair();
    int portB = FreePorts.pair();
    ClusterNode a = ClusterNode.join(new ClusterConfig(List.of("127.0.0.1:" + portA), Optional.of("127.0.0.1"), portA,
            OWNER_LEASE), options -> Vertx.builder().with(options), new NodeCard("node-a", true, Map.of()))
        .await(WAIT, TimeUnit.SECONDS);
    ClusterNode b = ClusterNode.join(new ClusterConfig(List.of("127.0.0.1:" + portB), Optional.of("127.0.0.1"), portB,
            OWNER_LEASE), options -> Vertx.builder().with(options), new NodeCard("node-b", true, Map.of()))
        .await(WAIT, TimeUnit.SECONDS);
    try {
      FakeBitrixPortal portal = FakeBitrixPortal.start(a.vertx()).await(WAIT, TimeUnit.SECONDS);
      TestRelay owner = TestRelay.startOnPostgres(a.vertx(), dir.resolve("a"), database.settings(), "node-a", portal,
          OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
      TestRelay standby = TestRelay.startOnPostgres(b.vertx(), dir.resolve("b"), database.settings(), "node-b",
          portal, OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
      String run = UUID.randomUUID().toString();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ids.add(post(standby, run, i));
      }
      owner.awaitExactlyOneLeadEach(portal, ids).await(WAIT, TimeUnit.SECONDS);

      String warning = standby.pollAsync(() -> standby.client().get(standby.port(), "127.0.0.1", "/health").send()
          .map(health -> health.bodyAsJsonObject().getJsonObject("cluster").getString("warning")))
          .await(WAIT, TimeUnit.SECONDS);
      String ownerName = cluster(owner).getString("node");
      assertEquals("Portal " + portal.webhookUrl().replaceAll("^(https?://[^/]+).*$", "$1") + " is owned by "
          + ownerName + ", which is not a member of this node's cluster: the nodes' CLUSTER_MEMBERS lists do not"
          + " join them into one cluster; give every node the same list. Nothing is lost meanwhile: the leads this"
          + " node accepts wait in the database for the owner", warning);
      assertEquals("node-b", cluster(standby).getJsonArray("members").getJsonObject(0).getString("node"));
      assertTrue(!cluster(owner).containsKey("warning"), "the owner is in its own cluster: " + cluster(owner));
    } finally {
      b.vertx().close().await(30, TimeUnit.SECONDS);
      a.vertx().close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLeadOfAnIntegrationOnlyTheAcceptingNodeHasIsSentAndRecordedByTheOwner() throws Exception {
    // The standby has an integration "second" on the same portal that the owner lacks (configured unlike it).
    List<ClusterNode> pair = clusterOfTwo();
    ClusterNode a = pair.get(0);
    ClusterNode b = pair.get(1);
    try {
      FakeBitrixPortal portal = FakeBitrixPortal.start(a.vertx()).await(WAIT, TimeUnit.SECONDS);
      TestRelay owner = TestRelay.startOnPostgres(a.vertx(), dir.resolve("a"), database.settings(), "node-a", portal,
          OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
      TestRelay standby = TestRelay.startOnPostgresWith(b.vertx(), dir.resolve("b"), database.settings(), "node-b",
          portal, OWNER_LEASE, "second").await(WAIT, TimeUnit.SECONDS);
      assertEquals("owner", cluster(owner).getString("role"));

      var accepted = standby.post("/webhook/second/" + TestRelay.SECRET, "application/json",
          io.vertx.core.buffer.Buffer.buffer("{\"name\":\"Вторая " + UUID.randomUUID() + "\"}"))
          .await(WAIT, TimeUnit.SECONDS);
      assertEquals(200, accepted.statusCode(), accepted.bodyAsString());
      String id = accepted.bodyAsJsonObject().getString("id");
      owner.awaitExactlyOneLeadEach(portal, List.of(id)).await(WAIT, TimeUnit.SECONDS);
      JsonObject sent = owner.awaitLines("success", lines -> !lines.isEmpty()).await(WAIT, TimeUnit.SECONDS).get(0);
      assertEquals(id, sent.getString("id"), "the owner sent it and recorded it: " + sent.encode());
      assertEquals("DELIVERED", owner.relay().store().find(id).await(WAIT, TimeUnit.SECONDS).orElseThrow().state()
          .name());
    } finally {
      b.vertx().close().await(30, TimeUnit.SECONDS);
      a.vertx().close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLeadInFlightWhenTheOwnerWasCutOffIsLookedUpByTheNewOwnerNotWaitedOut() throws Exception {
    // Delivery leases far longer than the test: only the takeover's re-drive can bring the lead back in time.
    DeliveryConfig longLeases = new DeliveryConfig("NORMAL", Duration.ofMillis(50), Duration.ofSeconds(2),
        Duration.ofHours(72), Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMillis(100), 200, 30);
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      Pair nodes = pairWithOwnerBehindProxy(first, second, longLeases);
      TestRelay owner = nodes.owner();
      TestRelay standby = nodes.standby();
      FakeBitrixPortal portal = nodes.portal();
      FreezableProxy link = nodes.link();

      // The lead is created, but its answer stalls: the owner is cut off with it in flight.
      portal.enqueue(FakeBitrixPortal.Reply.createThenStall());
      String inFlight = post(owner, UUID.randomUUID().toString(), 0);
      owner.poll(() -> portal.leads().isEmpty() ? null : true).await(WAIT, TimeUnit.SECONDS);
      link.freeze();
      long cutAt = System.nanoTime();

      standby.awaitExactlyOneLeadEach(portal, List.of(inFlight)).await(WAIT, TimeUnit.SECONDS);
      JsonObject found = standby.awaitLines("success", lines -> lines.size() == 1).await(WAIT, TimeUnit.SECONDS)
          .get(0);
      long recordedMillis = (System.nanoTime() - cutAt) / 1_000_000;
      assertTrue(found.encode().contains(inFlight), found.encode());
      assertTrue(found.encode().contains("\"found\":true"), "looked up, not added again: " + found.encode());
      // Taken over within the lease plus a quarter, re-driven a quarter later, looked up at once.
      assertTrue(recordedMillis < OWNER_LEASE.multipliedBy(6).dividedBy(4).toMillis() + 2_500,
          "the lead in flight was recorded by the new owner " + recordedMillis + " ms after the cut");
      assertEquals(List.of(), owner.lines("success"), "the cut-off owner recorded nothing");
    } finally {
      second.close().await(30, TimeUnit.SECONDS);
      first.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** Two nodes on loopback that list each other, joined into one cluster (started together, as after a deploy). */
  private static List<ClusterNode> clusterOfTwo() throws Exception {
    int portA = FreePorts.pair();
    int portB = FreePorts.pair();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    Future<ClusterNode> joiningA = ClusterNode.join(new ClusterConfig(members, Optional.of("127.0.0.1"), portA,
        OWNER_LEASE));
    Future<ClusterNode> joiningB = ClusterNode.join(new ClusterConfig(members, Optional.of("127.0.0.1"), portB,
        OWNER_LEASE));
    return List.of(joiningA.await(WAIT, TimeUnit.SECONDS), joiningB.await(WAIT, TimeUnit.SECONDS));
  }

  /** Two nodes on one portal; the first (the owner, started first) reaches the database through {@code link}. */
  private record Pair(TestRelay owner, TestRelay standby, FakeBitrixPortal portal, FreezableProxy link) {
  }

  private Pair pairWithOwnerBehindProxy(Vertx first, Vertx second, DeliveryConfig delivery) throws Exception {
    PgSettings direct = database.settings();
    FreezableProxy.Link behind = FreezableProxy.inFrontOf(first, direct, direct.password()).await(5, TimeUnit.SECONDS);
    FreezableProxy link = behind.proxy();
    PgSettings throughLink = behind.settings();
    FakeBitrixPortal portal = FakeBitrixPortal.start(second).await(WAIT, TimeUnit.SECONDS);
    TestRelay owner = TestRelay.startOnPostgres(first, dir.resolve("a"), throughLink, "node-a", portal,
        OWNER_LEASE, delivery).await(WAIT, TimeUnit.SECONDS);
    TestRelay standby = TestRelay.startOnPostgres(second, dir.resolve("b"), direct, "node-b", portal,
        OWNER_LEASE, delivery).await(WAIT, TimeUnit.SECONDS);
    return new Pair(owner, standby, portal, link);
  }

  @Test
  void aCutOffOwnerIsReplacedAndNothingIsLostOrDoubled() throws Exception {
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      Pair nodes = pairWithOwnerBehindProxy(first, second, TestRelay.FAST);
      TestRelay owner = nodes.owner();
      TestRelay standby = nodes.standby();
      FakeBitrixPortal portal = nodes.portal();
      FreezableProxy link = nodes.link();
      String run = UUID.randomUUID().toString();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ids.add(post(owner, run, i));
      }
      owner.awaitExactlyOneLeadEach(portal, ids).await(WAIT, TimeUnit.SECONDS);
      owner.awaitLines("success", lines -> lines.size() == 10).await(WAIT, TimeUnit.SECONDS);

      link.freeze();
      long cutAt = System.nanoTime();
      for (int i = 10; i < 30; i++) {
        ids.add(post(standby, run, i));
      }
      standby.awaitExactlyOneLeadEach(portal, ids).await(WAIT, TimeUnit.SECONDS);
      long takeoverMillis = (System.nanoTime() - cutAt) / 1_000_000;
      System.out.println("Owner cut off: its portal taken over and the backlog delivered in " + takeoverMillis
          + " ms (owner lease " + OWNER_LEASE.toSeconds() + " s)");
      assertTrue(takeoverMillis < OWNER_LEASE.plus(PortalLease.renewEvery(OWNER_LEASE)).toMillis() + 5_000,
          takeoverMillis + " ms");
      assertEquals(10, owner.lines("success").size(), "the cut-off owner sent nothing more");
      standby.awaitLines("success", lines -> lines.size() == 20).await(WAIT, TimeUnit.SECONDS);
    } finally {
      second.close().await(30, TimeUnit.SECONDS);
      first.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** Returns the standby node's cluster view from /health. */
  private JsonObject bothNodesActAsOneRelay(Vertx first, Vertx second) throws Exception {
    FakeBitrixPortal portal = FakeBitrixPortal.start(first).await(WAIT, TimeUnit.SECONDS);
    String run = UUID.randomUUID().toString(); // bodies unlike another test's on the same store (not repeats)
    TestRelay owner = TestRelay.startOnPostgres(first, dir.resolve("a"), database.settings(), "node-a", portal,
        OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
    TestRelay standby = TestRelay.startOnPostgres(second, dir.resolve("b"), database.settings(), "node-b", portal,
        OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(post(i % 2 == 0 ? owner : standby, run, i));
    }
    owner.awaitExactlyOneLeadEach(portal, ids).await(WAIT, TimeUnit.SECONDS);
    owner.awaitLines("success", lines -> lines.size() == ids.size()).await(WAIT, TimeUnit.SECONDS);
    assertEquals(List.of(), standby.lines("success"), "only the portal's owner sends to it");

    JsonObject ownerView = cluster(owner);
    JsonObject standbyView = cluster(standby);
    String key = portal.webhookUrl().replaceAll("^(https?://[^/]+).*$", "$1");
    assertEquals("owner", ownerView.getString("role"), ownerView.encode());
    assertEquals(List.of(key), ownerView.getJsonArray("owns").getList(), ownerView.encode());
    assertEquals("standby", standbyView.getString("role"), standbyView.encode());
    assertEquals(ownerView.getString("node"), standbyView.getJsonObject("portals").getJsonObject(key)
        .getString("owner"), standbyView.encode());

    // The owner stops (a rolling restart): the other node takes the portal and delivers what arrives meanwhile.
    owner.relay().stop().await(WAIT, TimeUnit.SECONDS);
    List<String> later = new ArrayList<>();
    for (int i = 20; i < 30; i++) {
      later.add(post(standby, run, i));
    }
    List<String> all = new ArrayList<>(ids);
    all.addAll(later);
    standby.awaitExactlyOneLeadEach(portal, all).await(WAIT, TimeUnit.SECONDS);
    standby.awaitLines("success", lines -> lines.size() == later.size()).await(WAIT, TimeUnit.SECONDS);
    assertEquals("owner", cluster(standby).getString("role"));
    return standbyView;
  }

  private static String post(TestRelay node, String run, int i) throws Exception {
    var response = node.postJson("{\"name\":\"Иван " + i + "\",\"phone\":\"+7999000" + i + "\",\"run\":\"" + run
            + "\"}")
        .await(WAIT, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("id");
  }

  private static JsonObject cluster(TestRelay node) throws Exception {
    var health = node.client().get(node.port(), "127.0.0.1", "/health").send().await(WAIT, TimeUnit.SECONDS);
    JsonObject cluster = health.bodyAsJsonObject().getJsonObject("cluster");
    assertTrue(cluster != null, health.bodyAsString());
    return cluster;
  }
}
