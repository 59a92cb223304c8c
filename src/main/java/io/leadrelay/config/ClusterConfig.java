package io.leadrelay.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Several nodes as one relay: the Hazelcast members to join over TCP/IP (no multicast), the address this node is
 * reached at, and how long a portal owner's lease lasts. No members means one node alone, the default.
 *
 * @param members     {@code host:port} of every node (this one may be among them); empty when not clustered
 * @param host        the address other nodes reach this one at; empty to let Hazelcast pick an interface
 * @param port        Hazelcast's member port; the event bus listens on the next one
 * @param ownerLease  how long a portal's owner holds it without renewing: a dead owner's portals are taken over
 *                    within this plus a quarter of it
 */
public record ClusterConfig(List<String> members, Optional<String> host, int port, Duration ownerLease) {

  public static final int DEFAULT_PORT = 5701;
  public static final Duration DEFAULT_OWNER_LEASE = Duration.ofSeconds(10);

  public ClusterConfig {
    members = List.copyOf(members);
  }

  /** One node alone, on its own store: nothing to join. */
  public static ClusterConfig single() {
    return new ClusterConfig(List.of(), Optional.empty(), DEFAULT_PORT, DEFAULT_OWNER_LEASE);
  }

  public boolean enabled() {
    return !members.isEmpty();
  }

  /** The clustered event bus's port: next to Hazelcast's, so one range of two ports is opened between nodes. */
  public int busPort() {
    return port + 1;
  }
}
