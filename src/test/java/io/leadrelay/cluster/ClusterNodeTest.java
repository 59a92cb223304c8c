package io.leadrelay.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.config.ConfigException;
import io.leadrelay.config.MetricsConfig;
import io.leadrelay.metrics.MetricsBackend;
import io.leadrelay.testing.FreePorts;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterNodeTest {

  @Test
  void hazelcastJoinsOnlyTheListedMembersOverTcpAndNeverPhonesHome() {
    ClusterConfig cluster = new ClusterConfig(List.of("relay1:5701", "relay2:5701"), Optional.of("relay1"), 5701,
        Duration.ofSeconds(10));
    Config config = ClusterNode.hazelcast(cluster);
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertFalse(join.getMulticastConfig().isEnabled());
    assertFalse(join.getAutoDetectionConfig().isEnabled());
    assertTrue(join.getTcpIpConfig().isEnabled());
    assertEquals(List.of("relay1:5701", "relay2:5701"), join.getTcpIpConfig().getMembers());
    assertEquals(5701, config.getNetworkConfig().getPort());
    assertFalse(config.getNetworkConfig().isPortAutoIncrement(), "a node is where its members list says");
    assertEquals("relay1:5701", config.getNetworkConfig().getPublicAddress());
    assertEquals("false", config.getProperty("hazelcast.phone.home.enabled"));
    assertEquals("slf4j", config.getProperty("hazelcast.logging.type"));
    assertEquals("relay1", ClusterNode.eventBus(cluster).getClusterPublicHost());
    assertEquals(5702, ClusterNode.eventBus(cluster).getPort());
  }

  @Test
  void twoNodesJoinedOverTcpShareOneEventBusAndPayloadsCrossItUnchanged() throws Exception {
    int portA = FreePorts.pair();
    int portB = FreePorts.pair();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    Duration lease = Duration.ofSeconds(10);
    Future<ClusterNode> joiningA = ClusterNode.join(new ClusterConfig(members, Optional.of("127.0.0.1"), portA, lease));
    // Node B measures itself, as Main builds every node: the clustered bus's metrics name no address.
    MetricsBackend metricsB = MetricsBackend.create(MetricsConfig.onMainPort());
    Future<ClusterNode> joiningB = ClusterNode.join(new ClusterConfig(members, Optional.of("127.0.0.1"), portB, lease),
        metricsB::builder);
    ClusterNode a = joiningA.await(60, TimeUnit.SECONDS);
    ClusterNode b = joiningB.await(60, TimeUnit.SECONDS);
    try {
      assertNotEquals(a.id(), b.id());
      assertEquals(Set.of(a.id(), b.id()), Set.copyOf(a.memberIds()));

      a.vertx().eventBus().<String>consumer("leadrelay.test.echo", message -> message.reply(message.body()))
          .completion().await(10, TimeUnit.SECONDS);
      String payload = "{\"price\":\"1.50\",\"total\":9000.00,\"name\":\"Ёлка 🎄\"}";
      Object answer = b.vertx().eventBus().request("leadrelay.test.echo", payload).await(10, TimeUnit.SECONDS).body();
      assertEquals(payload, answer);
      assertTrue(b.vertx().isMetricsEnabled());
      String scrape = metricsB.registry().scrape();
      assertTrue(scrape.contains("vertx_eventbus_sent_total{side=\"remote\"} 1.0"), scrape);
      assertFalse(scrape.contains("leadrelay.test.echo"), "no event-bus address in a label");
    } finally {
      // One after the other, as nodes are stopped in a rolling restart: the last one keeps the cluster's data.
      b.vertx().close().await(30, TimeUnit.SECONDS);
      a.vertx().close().await(30, TimeUnit.SECONDS);
      metricsB.close();
    }
  }

  @Test
  void aTakenClusterPortOrAForeignClusterHostIsOneSentenceBeforeHazelcastStarts() throws Exception {
    int port = FreePorts.pair();
    Duration lease = Duration.ofSeconds(10);
    ClusterNode.checkPorts(new ClusterConfig(List.of("127.0.0.1:" + port), Optional.of("127.0.0.1"), port, lease));
    try (ServerSocket hazelcast = new ServerSocket(port)) {
      ConfigException taken = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () ->
          ClusterNode.checkPorts(new ClusterConfig(List.of(), Optional.of("127.0.0.1"), port, lease)));
      assertEquals("Port " + port + " is already in use (CLUSTER_PORT is " + port + "): stop what listens there, or"
          + " give this node another CLUSTER_PORT with the next port free too (nodes on one host: 5701, 5711,"
          + " 5721).", taken.getMessage());
    }
    try (ServerSocket bus = new ServerSocket(port + 1, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      ConfigException taken = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () ->
          ClusterNode.checkPorts(new ClusterConfig(List.of(), Optional.of("127.0.0.1"), port, lease)));
      assertTrue(taken.getMessage().startsWith("Port " + (port + 1) + " on 127.0.0.1 is already in use (the event"
          + " bus takes the port after CLUSTER_PORT " + port + ")"), taken.getMessage());
    }
    // Another host's address (TEST-NET-1, never on this machine): binding to it fails here, no packet is sent.
    ConfigException foreign = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () ->
        ClusterNode.checkPorts(new ClusterConfig(List.of(), Optional.of("192.0.2.1"), port, lease)));
    assertEquals("CLUSTER_HOST 192.0.2.1 is not an address of this host: give each node its own address,"
        + " the one the other nodes reach it at.", foreign.getMessage());
  }
}
