package io.leadrelay.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The cluster as {@code /health} shows it: the members of the clustered bus, which node holds which portal's lease,
 * and this node's role (owner of some portals, or standby). Plain data in, JSON out.
 */
public final class ClusterView {

  /** A member of the clustered event bus: its cluster-manager id and the address its bus is reached at. */
  public record Member(String id, String host, int port) {
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
      members.forEach(member -> list.add(new JsonObject().put("id", member.id())
          .put("address", member.host() == null ? null : member.host() + ":" + member.port())));
      view.put("members", list);
    }
    return view;
  }

  /** A single node on its embedded store: it owns every portal, there is nothing to share. */
  public static JsonObject single() {
    return new JsonObject().put("status", "UP").put("mode", "single").put("role", "owner of every portal");
  }
}
