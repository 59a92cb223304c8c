package io.leadrelay.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterConfigTest {

  private static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(json)).getMessage();
  }

  @Test
  void withoutMembersTheRelayIsOneNodeAlone() {
    ClusterConfig cluster = ConfigParser.parse(new JsonObject()).cluster();
    assertFalse(cluster.enabled());
    assertEquals(ClusterConfig.single(), cluster);
  }

  @Test
  void membersHostPortAndLeaseComeFromTheEnvironment() {
    ClusterConfig cluster = ConfigParser.parse(new JsonObject()
        .put("STORE", "postgres")
        .put("DATABASE_URL", "postgresql://relay@db:5432/leadrelay")
        .put("CLUSTER_MEMBERS", " relay1, relay2:5801 ,10.0.0.3,[fd00::7]:5702,")
        .put("CLUSTER_HOST", "relay1")
        .put("CLUSTER_PORT", "5711")
        .put("OWNER_LEASE_SECONDS", "6")).cluster();
    assertTrue(cluster.enabled());
    assertEquals(List.of("relay1:5711", "relay2:5801", "10.0.0.3:5711", "[fd00::7]:5702"), cluster.members());
    assertEquals(Optional.of("relay1"), cluster.host());
    assertEquals(5711, cluster.port());
    assertEquals(5712, cluster.busPort(), "the event bus listens next to Hazelcast");
    assertEquals(Duration.ofSeconds(6), cluster.ownerLease());
  }

  @Test
  void theFileMayListMembersAsAnArray() {
    ClusterConfig cluster = ConfigParser.parse(new JsonObject()
        .put("store", new JsonObject().put("type", "postgres").put("url", "postgresql://relay@db:5432/leadrelay"))
        .put("cluster", new JsonObject().put("members", new JsonArray().add("a").add("b:6000")))).cluster();
    assertEquals(List.of("a:5701", "b:6000"), cluster.members());
    assertEquals(ClusterConfig.DEFAULT_OWNER_LEASE, cluster.ownerLease());
  }

  @Test
  void aClusterOnTheEmbeddedStoreIsRefusedInOneSentence() {
    String message = error(new JsonObject().put("CLUSTER_MEMBERS", "relay1,relay2"));
    assertEquals("CLUSTER_MEMBERS is set, but several nodes can only share the PostgreSQL store: set STORE=postgres"
        + " (store.type) on every node, or unset CLUSTER_MEMBERS to run one node on SQLite.", message);
    assertTrue(error(new JsonObject().put("STORE", "sqlite").put("CLUSTER_MEMBERS", "relay1"))
        .startsWith("CLUSTER_MEMBERS is set, but"));
  }

  @Test
  void badMembersPortsAndLeasesNameTheVariable() {
    JsonObject postgres = new JsonObject().put("STORE", "postgres")
        .put("DATABASE_URL", "postgresql://relay@db:5432/leadrelay");
    assertEquals("CLUSTER_MEMBERS must list the nodes as host or host:port, separated by commas (e.g."
        + " relay1:5701,relay2:5701), got \"relay1:99999\".",
        error(postgres.copy().put("CLUSTER_MEMBERS", "relay1:99999")));
    assertTrue(error(postgres.copy().put("CLUSTER_MEMBERS", "relay one")).startsWith("CLUSTER_MEMBERS must list"));
    assertTrue(error(postgres.copy().put("CLUSTER_MEMBERS", "a").put("CLUSTER_PORT", "http"))
        .startsWith("CLUSTER_PORT must be a whole number from 1 to 65534"));
    assertTrue(error(postgres.copy().put("CLUSTER_MEMBERS", "a").put("OWNER_LEASE_SECONDS", "1"))
        .startsWith("OWNER_LEASE_SECONDS must be a whole number from 3 to 600"));
    assertTrue(error(new JsonObject().put("cluster", new JsonObject().put("multicast", true)))
        .startsWith("Unknown key 'multicast' in cluster"));
  }

  @Test
  void aWildcardClusterHostIsRefusedSinceTheOtherNodesCannotReachIt() {
    JsonObject node = new JsonObject().put("STORE", "postgres")
        .put("DATABASE_URL", "postgresql://relay@db:5432/leadrelay").put("CLUSTER_MEMBERS", "relay1,relay2");
    assertEquals("CLUSTER_HOST is 0.0.0.0, but it is the address the other nodes reach this one at, not an interface"
        + " to listen on: give this node's own address or host name.", error(node.copy().put("CLUSTER_HOST",
        "0.0.0.0")));
    assertTrue(error(node.copy().put("CLUSTER_HOST", "::")).startsWith("CLUSTER_HOST is ::, but"));
  }
}
