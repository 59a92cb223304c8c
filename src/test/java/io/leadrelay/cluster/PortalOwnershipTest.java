package io.leadrelay.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Portal ownership against the real PostgreSQL: one owner at a time, takeover after a stall, fencing. */
class PortalOwnershipTest {

  /** Short, so the takeovers below take seconds: renewals every 0.5 s, a term of 1.5 s. */
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final String PORTAL = "b24-one.bitrix24.ru";

  private Vertx vertx;
  private LeaseDatabase database;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    database = new LeaseDatabase(vertx);
  }

  @AfterEach
  void tearDown() throws Exception {
    // The nodes first, so that they give their leases up in a database that is still there.
    Future.join(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()).await(10, TimeUnit.SECONDS);
    try {
      database.close();
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private PortalOwnership node(String id, PgConnectOptions where, String... portals) {
    return new PortalOwnership(where, id, List.of(portals), LEASE);
  }

  private PortalOwnership deployed(PortalOwnership node) throws Exception {
    vertx.deployVerticle(node).await(10, TimeUnit.SECONDS);
    return node;
  }

  @Test
  void aNodeAloneOwnsItsPortalsOnceDeployed() throws Exception {
    PortalOwnership node = deployed(node("node-a", database.options(), PORTAL, "b24-two.bitrix24.ru"));
    assertTrue(node.isOwner(PORTAL));
    assertTrue(node.isOwner("b24-two.bitrix24.ru"));
    assertEquals(OptionalLong.of(1), node.epoch(PORTAL));
    assertFalse(node.isOwner("b24-unknown.bitrix24.ru"));
    assertTrue(node.owner().startsWith("node-a/"));
    assertEquals(List.of(new PortalOwnership.Holder(PORTAL, node.owner(), 1, true),
            new PortalOwnership.Holder("b24-two.bitrix24.ru", node.owner(), 1, true)),
        node.holders().await(5, TimeUnit.SECONDS));
  }

  @Test
  void concurrentTakeoversOfAnExpiredLeaseGrantItToExactlyOneNode() throws Exception {
    SqlClient sql = database.client();
    sql.preparedQuery("INSERT INTO portal_leases VALUES ($1, 'dead-node', 41, now() - interval '1 second')")
        .execute(Tuple.of(PORTAL)).await(5, TimeUnit.SECONDS);
    List<Future<RowSet<Row>>> attempts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      attempts.add(sql.preparedQuery(LeaseSql.ACQUIRE).execute(Tuple.of(PORTAL, "node-" + i, 10.0)));
    }
    Future.join(new ArrayList<>(attempts)).await(10, TimeUnit.SECONDS);
    List<Long> granted = attempts.stream().filter(a -> a.result().size() == 1)
        .map(a -> a.result().iterator().next().getLong(0)).toList();
    assertEquals(List.of(42L), granted, "one winner, one epoch above the dead owner's");
  }

  @Test
  void contendingNodesNeverBothOwnAPortalAndAStoppedOwnerHandsItOn() throws Exception {
    List<PortalOwnership> nodes = new ArrayList<>();
    List<Future<String>> deployments = new ArrayList<>();
    // Two of them with one name, as two processes configured alike would be: still two contenders.
    for (String id : List.of("node-a", "node-a", "node-c")) {
      PortalOwnership node = node(id, database.options(), PORTAL);
      nodes.add(node);
      deployments.add(vertx.deployVerticle(node));
    }
    Map<PortalOwnership, String> deploymentIds = new ConcurrentHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      deploymentIds.put(nodes.get(i), deployments.get(i).await(10, TimeUnit.SECONDS));
    }

    PortalOwnership first = soleOwner(nodes, LEASE);
    long firstEpoch = first.epoch(PORTAL).getAsLong();
    vertx.undeploy(deploymentIds.get(first)).await(10, TimeUnit.SECONDS);
    List<PortalOwnership> rest = nodes.stream().filter(node -> node != first).toList();
    PortalOwnership second = soleOwner(rest, LEASE.multipliedBy(2));
    assertNotEquals(first, second);
    assertTrue(second.epoch(PORTAL).getAsLong() > firstEpoch, "a takeover raises the epoch");
  }

  /**
   * Samples every node for {@code during}: never two owners at once; then exactly one, which is returned.
   */
  private static PortalOwnership soleOwner(List<PortalOwnership> nodes, Duration during) {
    long end = System.nanoTime() + during.toNanos();
    Set<PortalOwnership> owners;
    do {
      owners = Set.copyOf(nodes.stream().filter(node -> node.isOwner(PORTAL)).toList());
      assertTrue(owners.size() <= 1, "two owners at once: " + owners.stream().map(PortalOwnership::owner).toList());
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    } while (System.nanoTime() < end || owners.isEmpty() && System.nanoTime() < end + during.toNanos());
    assertEquals(1, owners.size(), "one owner in the end");
    return owners.iterator().next();
  }

  @Test
  void aStalledOwnerStopsActingBeforeItsLeaseIsTakenWithAHigherEpochAndItsWritesAreFenced() throws Exception {
    PgConnectOptions direct = database.options();
    FreezableProxy link = new FreezableProxy(vertx, direct.getHost(), direct.getPort());
    int proxyPort = link.start().await(5, TimeUnit.SECONDS);
    PgConnectOptions throughLink = new PgConnectOptions(direct).setPort(proxyPort).setHost("127.0.0.1");

    Map<String, Long> moments = new ConcurrentHashMap<>();
    PortalOwnership stalled = deployed(node("node-a", throughLink, PORTAL)
        .onLost(portal -> moments.putIfAbsent("a lost", System.nanoTime())));
    long oldEpoch = stalled.epoch(PORTAL).getAsLong();
    Promise<Long> takenOver = Promise.promise();
    PortalOwnership standby = deployed(node("node-b", direct, PORTAL).onAcquired((portal, epoch) -> {
      moments.put("b acquired", System.nanoTime());
      takenOver.tryComplete(epoch);
    }));
    assertFalse(standby.isOwner(PORTAL));

    long frozenAt = System.nanoTime();
    link.freeze();
    long newEpoch = takenOver.future().await(LEASE.multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS);
    double takeoverSeconds = (moments.get("b acquired") - frozenAt) / 1e9;
    System.out.printf("Takeover after a stalled owner: %.2f s (lease %d s)%n", takeoverSeconds, LEASE.toSeconds());

    assertTrue(newEpoch > oldEpoch);
    assertFalse(stalled.isOwner(PORTAL));
    assertTrue(moments.get("a lost") < moments.get("b acquired"), "the old owner stopped before the new one began");
    assertTrue(takeoverSeconds <= LEASE.plus(PortalLease.renewEvery(LEASE)).toMillis() / 1000.0 + 0.5,
        "taken within the lease and one renewal period, took " + takeoverSeconds + " s");

    assertTrue(standby.fenced(PORTAL, oldEpoch).await(5, TimeUnit.SECONDS));
    assertFalse(standby.fenced(PORTAL, newEpoch).await(5, TimeUnit.SECONDS));
    SqlClient sql = database.client();
    sql.query("CREATE TABLE outcomes (portal TEXT, note TEXT)").execute().await(5, TimeUnit.SECONDS);
    String fencedInsert = "INSERT INTO outcomes SELECT $1, $3 WHERE " + LeaseSql.guard("$1", "$2");
    assertEquals(0, sql.preparedQuery(fencedInsert).execute(Tuple.of(PORTAL, oldEpoch, "by the old owner"))
        .await(5, TimeUnit.SECONDS).rowCount(), "a write under the old epoch is refused");
    assertEquals(1, sql.preparedQuery(fencedInsert).execute(Tuple.of(PORTAL, newEpoch, "by the new owner"))
        .await(5, TimeUnit.SECONDS).rowCount());
    link.close();
  }

  @Test
  void aNodeCutOffFromTheDatabaseContendsAgainOnceTheLinkHeals() throws Exception {
    PgConnectOptions direct = database.options();
    FreezableProxy link = new FreezableProxy(vertx, direct.getHost(), direct.getPort());
    int proxyPort = link.start().await(5, TimeUnit.SECONDS);
    Promise<Long> lostThenRegained = Promise.promise();
    PortalOwnership cutOff = deployed(node("node-a", new PgConnectOptions(direct).setPort(proxyPort)
        .setHost("127.0.0.1"), PORTAL)
        .onAcquired((portal, epoch) -> {
          if (epoch > 1) {
            lostThenRegained.tryComplete(epoch);
          }
        }));
    assertTrue(cutOff.isOwner(PORTAL));

    // Its renewals now go unanswered on a connection that will never answer again, even after the link heals.
    link.freeze();
    Promise<Void> lost = Promise.promise();
    cutOff.onLost(portal -> lost.tryComplete());
    lost.future().await(LEASE.toMillis() * 2, TimeUnit.MILLISECONDS);
    link.thaw();

    // Nobody else wants the portal: the node takes it back, on a fresh connection, under a new epoch.
    long epoch = lostThenRegained.future().await(LEASE.toMillis() * 4, TimeUnit.MILLISECONDS);
    assertEquals(2, epoch);
    assertTrue(cutOff.isOwner(PORTAL));
    link.close();
  }
}
