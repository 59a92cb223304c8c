package io.leadrelay.e2e;

import io.leadrelay.cluster.ClusterNode;
import io.leadrelay.cluster.NodeCard;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.testing.FreePorts;
import io.leadrelay.testing.RelayProcess;
import io.leadrelay.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Operator mistakes a node catches as it joins the cluster, before it opens the store or takes a webhook: the real
 * Main in a child JVM joins a member that runs in the test (published as relay1, sending the default integration
 * to a portal) and stops with exit code 2 and one sentence. The store is never reached (its URL points at a closed
 * port), so the refusal is the join's own.
 */
class ClusterMismatchTest {

  /** Only the node that starts first in dry-run reaches a store: it runs until it is told to stop. */
  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  private static final String PORTAL = "http://127.0.0.1:9";
  private static ClusterNode relay1;
  private static int relay1Port;

  @BeforeAll
  static void startRelay1() throws Exception {
    relay1Port = FreePorts.pair();
    // Listed with a second member that is never up: each child below takes that place.
    ClusterConfig cluster = new ClusterConfig(List.of("127.0.0.1:" + relay1Port), Optional.of("127.0.0.1"),
        relay1Port, Duration.ofSeconds(10));
    NodeCard card = new NodeCard("relay1", true, Map.of("default", PORTAL));
    relay1 = ClusterNode.join(cluster, options -> Vertx.builder().with(new VertxOptions(options)), card)
        .await(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopRelay1() throws Exception {
    if (relay1 != null) {
      relay1.vertx().close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNodeWithoutThePortalTheOthersSendToRefusesToJoinInDryRun(@TempDir Path dir) throws Exception {
    Map<String, String> env = node(dir, "relay2");
    assertEquals("LeadRelay cannot start: Integration default has no Bitrix24 portal on this node (dry-run), but"
        + " the cluster member relay1 at 127.0.0.1:" + (relay1Port + 1) + " sends it to " + PORTAL + ": every node"
        + " needs the same configuration (set the portal here too, BITRIX_WEBHOOK_URL for the default integration);"
        + " dry-run here would mark the webhooks this node accepts as delivered without sending them.",
        refusal(dir, env));
  }

  @Test
  void aSecondNodeUnderTheSameNodeIdRefusesToJoin(@TempDir Path dir) throws Exception {
    Map<String, String> env = node(dir, "relay1");
    env.put("BITRIX_WEBHOOK_URL", PORTAL + "/rest/1/test-c0de-x1/");
    assertEquals("LeadRelay cannot start: NODE_ID relay1 is already used by the cluster member relay1 at 127.0.0.1:"
        + (relay1Port + 1) + "; give every node its own NODE_ID (two nodes under one name release each other's"
        + " deliveries whenever one of them starts).", refusal(dir, env));
  }

  @Test
  void aNodeInDryRunThatStartedFirstStopsOnceAMemberSendsItsIntegrationToAPortal(@TempDir Path dir)
      throws Exception {
    // The node whose portal setting was forgotten starts before the others: its own join meets nobody to refuse it.
    int laterPort = FreePorts.pair();
    Map<String, String> env = node(dir, "relay2");
    int ownPort = Integer.parseInt(env.get("CLUSTER_PORT"));
    env.put("CLUSTER_MEMBERS", "127.0.0.1:" + ownPort + ",127.0.0.1:" + laterPort);
    env.put("DATABASE_URL", database.url());
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("HTTP_PORT", "0");
    Path console = dir.resolve("console.out");
    ProcessBuilder builder = RelayProcess.builder(dir, "-Xmx192m", "-XX:TieredStopAtLevel=1")
        .redirectOutput(console.toFile()).redirectError(dir.resolve("console.err").toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    ClusterNode sender = null;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (RelayProcess.consoleLines(console).stream().noneMatch(line -> line.contains("LeadRelay listening on"))) {
        assertTrue(process.isAlive() && System.nanoTime() < deadline, "the dry-run node did not start");
        Thread.sleep(100);
      }
      // A correctly configured node joins: it only warns (it is not at fault); the dry-run node must stop itself.
      sender = ClusterNode.join(new ClusterConfig(List.of("127.0.0.1:" + ownPort, "127.0.0.1:" + laterPort),
              Optional.of("127.0.0.1"), laterPort, Duration.ofSeconds(10)),
          options -> Vertx.builder().with(new VertxOptions(options)),
          new NodeCard("relay3", true, Map.of("default", PORTAL))).await(60, TimeUnit.SECONDS);
      assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the dry-run node did not stop by itself");
      String stderr = Files.readString(dir.resolve("console.err"));
      assertEquals(2, process.exitValue(), stderr);
      assertTrue(stderr.contains("LeadRelay stops: Integration default has no Bitrix24 portal on this node"
          + " (dry-run), but the cluster member relay3 at 127.0.0.1:" + (laterPort + 1) + " sends it to " + PORTAL),
          stderr);
      assertTrue(RelayProcess.consoleLines(console).stream().anyMatch(line -> line.contains("LeadRelay stopped cleanly")),
          "stopped through the graceful stop");
    } finally {
      process.destroyForcibly();
      if (sender != null) {
        sender.vertx().close().await(30, TimeUnit.SECONDS);
      }
    }
  }

  /** A second node's settings as the walk-through gives them, on loopback ports of its own. */
  private static Map<String, String> node(Path dir, String nodeId) throws IOException {
    int port = FreePorts.pair();
    Map<String, String> env = new HashMap<>();
    env.put("STORE", "postgres");
    env.put("DATABASE_URL", "postgresql://leadrelay:unused@127.0.0.1:9/leadrelay");
    env.put("CLUSTER_MEMBERS", "127.0.0.1:" + relay1Port + ",127.0.0.1:" + port);
    env.put("CLUSTER_HOST", "127.0.0.1");
    env.put("CLUSTER_PORT", String.valueOf(port));
    env.put("NODE_ID", nodeId);
    // Set, as the walk-through says: a generated one would be looked up in the store before the join.
    env.put("BOTHELP_SECRET", "mismatch-test-secret-0001");
    env.put("LOG_DIR", dir.resolve("logs").toString());
    env.put("DATA_DIR", dir.resolve("data").toString());
    return env;
  }

  /** Runs the node to its end: it must stop by itself with exit code 2; its one line on stderr is returned. */
  private static String refusal(Path dir, Map<String, String> env) throws Exception {
    ProcessBuilder builder = RelayProcess.builder(dir, "-Xmx192m", "-XX:TieredStopAtLevel=1")
        .redirectOutput(dir.resolve("console.out").toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    try {
      assertTrue(process.waitFor(90, TimeUnit.SECONDS), "the node did not stop by itself");
      String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (process.exitValue() != 2) {
        RelayProcess.printTails(List.of(dir.resolve("console.out")), 40);
      }
      assertEquals(2, process.exitValue(), stderr);
      return stderr;
    } finally {
      process.destroyForcibly();
    }
  }
}
