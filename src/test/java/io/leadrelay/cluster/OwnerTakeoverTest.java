package io.leadrelay.cluster;

import io.leadrelay.store.PgSettings;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestPostgres;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The portal's owner is cut off from the database (a stalled or partitioned node, which from the database's side is
 * a dead one): it stops sending before its lease runs out, the other node takes the portal over and delivers every
 * webhook it accepts, each exactly once, and the cut-off node never sends again.
 */
class OwnerTakeoverTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  private static final Duration OWNER_LEASE = Duration.ofSeconds(3);
  private static final long WAIT = 60;

  @TempDir
  Path dir;

  @Test
  void aCutOffOwnerIsReplacedAndNothingIsLostOrDoubled() throws Exception {
    Vertx first = Vertx.vertx();
    Vertx second = Vertx.vertx();
    try {
      PgSettings direct = database.settings();
      FreezableProxy link = new FreezableProxy(first, direct.host(), direct.port());
      int proxyPort = link.start().await(5, TimeUnit.SECONDS);
      PgSettings throughLink = new PgSettings("127.0.0.1", proxyPort, direct.database(), direct.user(),
          direct.password(), direct.sslMode(), direct.poolSize());
      FakeBitrixPortal portal = FakeBitrixPortal.start(second).await(WAIT, TimeUnit.SECONDS);
      TestRelay owner = TestRelay.startOnPostgres(first, dir.resolve("a"), throughLink, "node-a", portal,
          OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
      TestRelay standby = TestRelay.startOnPostgres(second, dir.resolve("b"), direct, "node-b", portal,
          OWNER_LEASE).await(WAIT, TimeUnit.SECONDS);
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

  private static String post(TestRelay node, String run, int i) throws Exception {
    var response = node.postJson("{\"name\":\"Пётр " + i + "\",\"phone\":\"+7999111" + i + "\",\"run\":\"" + run
        + "\"}").await(WAIT, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("id");
  }
}
