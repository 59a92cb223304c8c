package io.leadrelay.cluster;

import io.leadrelay.config.IntegrationConfig;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a clustered node tells the other members about itself (the cluster node metadata of its event bus): its node
 * id, whether an operator named it (NODE_ID), and where each of its integrations sends leads (a portal's key, or
 * dry-run). Secrets and webhook codes are never on it. A node joining the cluster compares its own card with the
 * members' to catch the set-up mistakes that would lose or resend leads before it takes a single webhook.
 *
 * @param node         the node id its leases carry ({@code NODE_ID}, or the one derived from host and process)
 * @param named        whether the id was configured (a derived one is unique by construction)
 * @param integrations integration name to portal key ({@link PortalOwnership#keyOf}), or null for dry-run
 */
public record NodeCard(String node, boolean named, Map<String, String> integrations) {

  /** What joining beside the members comes to: a refusal sentence (stop), and warnings to log. */
  public record Verdict(Optional<String> refusal, List<String> warnings) {
  }

  /** A member as seen from here: its bus address and its card (null from a release that publishes none). */
  public record Peer(String address, NodeCard card) {
  }

  public NodeCard {
    integrations = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(integrations));
  }

  public static NodeCard of(String node, boolean named, Collection<IntegrationConfig> integrations) {
    Map<String, String> targets = new LinkedHashMap<>();
    integrations.forEach(integration -> targets.put(integration.name(),
        integration.portal().map(PortalOwnership::keyOf).orElse(null)));
    return new NodeCard(node, named, targets);
  }

  public JsonObject toJson() {
    JsonObject targets = new JsonObject();
    integrations.forEach(targets::put);
    return new JsonObject().put("leadrelay", new JsonObject().put("node", node).put("named", named)
        .put("integrations", targets));
  }

  /** The card in a member's metadata, or null when it has none (an older release, or not yet published). */
  public static NodeCard fromJson(JsonObject metadata) {
    JsonObject card = metadata == null ? null : metadata.getJsonObject("leadrelay");
    if (card == null || card.getString("node") == null || card.getJsonObject("integrations") == null) {
      return null;
    }
    Map<String, String> targets = new LinkedHashMap<>();
    card.getJsonObject("integrations").forEach(entry -> targets.put(entry.getKey(),
        entry.getValue() == null ? null : entry.getValue().toString()));
    return new NodeCard(card.getString("node"), card.getBoolean("named", false), targets);
  }

  /**
   * Compares this node, reached at {@code selfAddress} (its bus's host:port), with the members already there.
   * Refused: a member that runs under the same NODE_ID from another address (each would release the other's
   * deliveries whenever it starts), and an integration that is dry-run here while a member sends it to a portal
   * (this node would mark the webhooks it accepts as delivered, and claim others' due ones, without sending them).
   * Any other difference in the integrations is a warning: a rolling restart that changes the configuration passes
   * through it.
   */
  public Verdict against(String selfAddress, Collection<Peer> peers) {
    String refusal = null;
    List<String> warnings = new ArrayList<>();
    for (Peer peer : peers) {
      NodeCard other = peer.card();
      if (other == null) {
        continue;
      }
      String member = "the cluster member " + other.node() + " at " + peer.address();
      if (named && other.named() && node.equals(other.node()) && !Objects.equals(selfAddress, peer.address())) {
        refusal = refusal != null ? refusal : "NODE_ID " + node + " is already used by " + member
            + "; give every node its own NODE_ID (two nodes under one name release each other's deliveries"
            + " whenever one of them starts).";
      }
      for (Map.Entry<String, String> mine : integrations.entrySet()) {
        String name = mine.getKey();
        String here = mine.getValue();
        if (!other.integrations().containsKey(name)) {
          warnings.add("Integration " + name + " is configured on this node but not on " + member + ": webhooks"
              + " for it that reach that node are refused with 404; give every node the same configuration.");
          continue;
        }
        String there = other.integrations().get(name);
        if (here == null && there != null) {
          refusal = refusal != null ? refusal : dryRunRefusal(name, member, there);
        } else if (here != null && there == null) {
          warnings.add("Integration " + name + " sends to " + here + " on this node but is dry-run on " + member
              + ": that node marks the webhooks it accepts as delivered without sending them; give every node the"
              + " same configuration.");
        } else if (here != null && !here.equals(there)) {
          warnings.add("Integration " + name + " sends to " + here + " on this node but to " + there + " on "
              + member + ": give every node the same configuration (expected only while a rolling restart"
              + " moves it).");
        }
      }
      for (String name : other.integrations().keySet()) {
        if (!integrations.containsKey(name)) {
          warnings.add("Integration " + name + " is configured on " + member + " but not on this node: webhooks"
              + " for it that reach this node are refused with 404; give every node the same configuration.");
        }
      }
    }
    return new Verdict(Optional.ofNullable(refusal), warnings);
  }

  /**
   * The members' cards again, from a node that has run for a while: whether one of them sends to a portal an
   * integration that is dry-run here. A node that started first in dry-run (its portal setting forgotten) passes its
   * own join; the correctly configured nodes that join after it only warn, since they are not the ones at fault.
   * Only this node can stop its dry-run from marking their webhooks delivered unsent.
   */
  public Optional<String> dryRunBeside(Collection<Peer> peers) {
    for (Peer peer : peers) {
      NodeCard other = peer.card();
      if (other == null) {
        continue;
      }
      for (Map.Entry<String, String> mine : integrations.entrySet()) {
        String there = other.integrations().get(mine.getKey());
        if (mine.getValue() == null && there != null) {
          return Optional.of(dryRunRefusal(mine.getKey(), "the cluster member " + other.node() + " at "
              + peer.address(), there));
        }
      }
    }
    return Optional.empty();
  }

  /** Whether an integration is dry-run here: only such a node needs {@link #dryRunBeside} watched. */
  public boolean hasDryRun() {
    return integrations.containsValue(null);
  }

  private static String dryRunRefusal(String integration, String member, String portal) {
    return "Integration " + integration + " has no Bitrix24 portal on this node (dry-run), but " + member
        + " sends it to " + portal + ": every node needs the same configuration (set the portal here too,"
        + " BITRIX_WEBHOOK_URL for the default integration); dry-run here would mark the webhooks this node accepts"
        + " as delivered without sending them.";
  }
}
