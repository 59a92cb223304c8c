package io.leadrelay.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.spi.properties.ClusterProperty;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.ArrayList;
import java.util.List;

/**
 * This node as a member of the relay's cluster: a Vert.x instance whose event bus spans the nodes, joined through
 * Hazelcast over TCP/IP to the configured members (no multicast, no cloud discovery, no phone-home), configured
 * here in code so that nothing but CLUSTER_* settings decides it.
 *
 * @param vertx   the clustered Vert.x instance
 * @param id      this node's identity in the cluster, also the owner name on portal leases
 * @param members the cluster manager, for the health report's member list
 */
public record ClusterNode(Vertx vertx, String id, HazelcastClusterManager members) {

  /** Kept apart from any other Hazelcast cluster on the same network. */
  static final String CLUSTER_NAME = "leadrelay";

  /** Joins (or, as the first member up, forms) the cluster. */
  public static Future<ClusterNode> join(ClusterConfig cluster) {
    return join(cluster, options -> Vertx.builder().with(options));
  }

  /** Joins with a Vert.x instance made by {@code builder} from the cluster's options (e.g. with metrics on). */
  public static Future<ClusterNode> join(ClusterConfig cluster,
                                         java.util.function.Function<VertxOptions, VertxBuilder> builder) {
    return join(cluster, builder, null);
  }

  /**
   * Joins with {@code card} (may be null) published to the other members as this node's metadata, so that each
   * can check, when it joins, that it runs alongside them under its own NODE_ID and with their integrations.
   */
  public static Future<ClusterNode> join(ClusterConfig cluster,
                                         java.util.function.Function<VertxOptions, VertxBuilder> builder,
                                         NodeCard card) {
    // Read by Hazelcast's logging before any configuration: its lines go through logback like everything else.
    System.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast(cluster));
    EventBusOptions bus = eventBus(cluster);
    if (card != null) {
      bus.setClusterNodeMetadata(card.toJson());
    }
    return builder.apply(new VertxOptions().setEventBusOptions(bus))
        .withClusterManager(manager)
        .buildClustered()
        .map(vertx -> new ClusterNode(vertx, manager.getNodeId(), manager));
  }

  /**
   * Checks before joining that this host can take the cluster's two ports, so that a mistake ends in one sentence
   * instead of Hazelcast's stack traces: Hazelcast's port on every interface (it binds them all), the event bus's on
   * CLUSTER_HOST, which must be an address of this host. A port taken between this check and the join still fails
   * the join, only less plainly.
   */
  public static void checkPorts(ClusterConfig cluster) {
    java.net.InetAddress host = null;
    if (cluster.host().isPresent()) {
      try {
        host = java.net.InetAddress.getByName(cluster.host().get());
      } catch (java.net.UnknownHostException e) {
        throw new ConfigException("CLUSTER_HOST " + cluster.host().get() + " does not resolve on this host; give the"
            + " address or host name the other nodes reach this node at.");
      }
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.bind(new java.net.InetSocketAddress(host, 0));
      } catch (java.io.IOException e) {
        String named = cluster.host().get().equals(host.getHostAddress()) ? cluster.host().get()
            : cluster.host().get() + " (" + host.getHostAddress() + ")";
        throw new ConfigException("CLUSTER_HOST " + named + " is not an address of this host: give each node its own"
            + " address, the one the other nodes reach it at.");
      }
    }
    free(null, cluster.port(), "CLUSTER_PORT is " + cluster.port());
    free(host, cluster.busPort(), "the event bus takes the port after CLUSTER_PORT " + cluster.port());
  }

  private static void free(java.net.InetAddress host, int port, String why) {
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.bind(new java.net.InetSocketAddress(host, port));
    } catch (java.io.IOException e) {
      throw new ConfigException("Port " + port + (host == null ? "" : " on " + host.getHostAddress()) + " is already"
          + " in use (" + why + "): stop what listens there, or give this node another CLUSTER_PORT with the next"
          + " port free too (nodes on one host: 5701, 5711, 5721).");
    }
  }

  /** This node's event bus as the other members reach it, {@code host:port}. */
  public String busAddress() {
    NodeInfo self = members.getNodeInfo();
    return self == null ? null : self.host() + ":" + self.port();
  }

  /**
   * The other members with the cards they published; a member whose details cannot be read (still starting, or
   * just gone) is left out.
   */
  public Future<List<NodeCard.Peer>> peers() {
    List<Future<NodeCard.Peer>> each = new ArrayList<>();
    for (String member : members.getNodes()) {
      if (member.equals(id)) {
        continue;
      }
      Promise<NodeInfo> info = Promise.promise();
      members.getNodeInfo(member, info);
      each.add(info.future().map(node -> node == null ? null
              : new NodeCard.Peer(node.host() + ":" + node.port(), NodeCard.fromJson(node.metadata())))
          .otherwise((NodeCard.Peer) null));
    }
    return Future.join(each).transform(done -> Future.succeededFuture(each.stream().map(Future::result)
        .filter(java.util.Objects::nonNull).toList()));
  }

  /** The ids of the nodes in the cluster now, this one included. */
  public List<String> memberIds() {
    return members.getNodes();
  }

  /** The event bus listens next to Hazelcast, at the address the other nodes reach this one. */
  static EventBusOptions eventBus(ClusterConfig cluster) {
    EventBusOptions options = new EventBusOptions().setPort(cluster.busPort());
    cluster.host().ifPresent(host -> options.setHost(host).setClusterPublicHost(host));
    return options;
  }

  static Config hazelcast(ClusterConfig cluster) {
    Config config = new Config().setClusterName(CLUSTER_NAME);
    config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
    // Vert.x leaves the cluster when it closes, in the relay's own shutdown order; Hazelcast's hook would race it.
    config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
    // A killed node's event-bus registrations go within seconds, not Hazelcast's default minute: in step with the
    // portal leases, which hand its portals on within OWNER_LEASE_SECONDS.
    config.setProperty(ClusterProperty.HEARTBEAT_INTERVAL_SECONDS.getName(), "2");
    config.setProperty(ClusterProperty.MAX_NO_HEARTBEAT_SECONDS.getName(),
        String.valueOf(Math.max(6, cluster.ownerLease().toSeconds())));
    config.setProperty(ClusterProperty.WAIT_SECONDS_BEFORE_JOIN.getName(), "1");
    config.getJetConfig().setEnabled(false);

    NetworkConfig network = config.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(false);
    cluster.host().ifPresent(host -> {
      network.setPublicAddress(host + ":" + cluster.port());
      config.setProperty("hazelcast.local.localAddress", host);
    });
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2).setMembers(cluster.members());

    // What Vert.x's own default-cluster.xml declares for its event-bus maps: one backup, subscriptions as a set.
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }
}
