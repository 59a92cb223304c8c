package io.leadrelay.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The cluster as {@code /health} shows it: the members of the clustered bus, which node holds which portal's lease,
 * and this node's role (owner of some portals, or standby). Plain data in, JSON out.
 */
public final class ClusterView {

  /**
   * A member of the clustered event bus: its cluster-manager id, its node id (the name on its leases, NODE_ID; null
   * when it published none) and the address its bus is reached at.
   */
  public record Member(String id, String node, String host, int port) {
    public Member(String id, String host, int port) {
      this(id, null, host, port);
    }
  }

  private ClusterView() {
  }

  /**
   * @param clustered whether the event bus spans several nodes (otherwise one node on a shared store)
   * @param self      this node's name on its leases
   * @param holders   every portal's lease as the database has it
   * @param members   the bus's members (empty when not clustered)
   */
  public static JsonObject toJson(boolean clustered, String self, List<PortalOwnership.Holder> holders,
                                  List<Member> members) {
    JsonArray owns = new JsonArray();
    JsonObject portals = new JsonObject();
    for (PortalOwnership.Holder holder : holders) {
      boolean mine = holder.live() && holder.owner().equals(self);
      if (mine) {
        owns.add(holder.portal());
      }
      portals.put(holder.portal(), new JsonObject()
          .put("owner", holder.live() ? holder.owner() : null)
          .put("epoch", holder.epoch())
          .put("thisNode", mine));
    }
    JsonObject view = new JsonObject()
        .put("status", "UP")
        .put("mode", clustered ? "cluster" : "shared-store")
        .put("node", self)
        .put("role", owns.isEmpty() ? "standby" : "owner")
        .put("owns", owns)
        .put("portals", portals);
    if (clustered) {
      JsonArray list = new JsonArray();
      members.forEach(member -> list.add(new JsonObject().put("id", member.id()).put("node", member.node())
          .put("address", member.host() == null ? null : member.host() + ":" + member.port())));
      view.put("members", list);
    }
    return view;
  }

  /**
   * The live portal owners that are not members of this node's cluster: nodes on the same database whose
   * CLUSTER_MEMBERS lists did not join them to this one. Empty when not clustered, or when some member published no
   * node id (an older release: nothing can be told).
   *
   * @return portal key to its owner's lease name
   */
  public static java.util.Map<String, String> ownersOutside(String self, List<PortalOwnership.Holder> holders,
                                                            List<Member> members) {
    java.util.Map<String, String> outside = new java.util.TreeMap<>();
    if (members.isEmpty() || members.stream().anyMatch(member -> member.node() == null)) {
      return outside;
    }
    java.util.Set<String> nodes = new java.util.HashSet<>();
    members.forEach(member -> nodes.add(member.node()));
    for (PortalOwnership.Holder holder : holders) {
      if (holder.live() && !holder.owner().equals(self) && !nodes.contains(nodeOf(holder.owner()))) {
        outside.put(holder.portal(), holder.owner());
      }
    }
    return outside;
  }

  /** The node id in a lease name {@code <node id>/<run token>}. */
  static String nodeOf(String owner) {
    int slash = owner.lastIndexOf('/');
    return slash < 0 ? owner : owner.substring(0, slash);
  }

  /** A single node on its embedded store: it owns every portal, there is nothing to share. */
  public static JsonObject single() {
    return new JsonObject().put("status", "UP").put("mode", "single").put("role", "owner of every portal");
  }
}
