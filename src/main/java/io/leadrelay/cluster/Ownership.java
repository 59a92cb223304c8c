package io.leadrelay.cluster;

import io.leadrelay.config.IntegrationConfig;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Which portals this node may send for. A relay on a shared store contends for each portal
 * ({@link PortalOwnership}); a relay alone on its embedded store owns every portal for its whole life
 * ({@link #SOLE}), with nothing to fence.
 */
public interface Ownership {

  /** The single node: owns every portal, never loses one, writes unfenced (nobody else could write). */
  Ownership SOLE = new Ownership() {
    @Override
    public boolean isOwner(String portal) {
      return true;
    }

    @Override
    public OptionalLong epoch(String portal) {
      return OptionalLong.empty();
    }

    @Override
    public Ownership onAcquired(BiConsumer<String, Long> handler) {
      return this;
    }

    @Override
    public Ownership onLost(Consumer<String> handler) {
      return this;
    }

    @Override
    public String owner() {
      return "this node";
    }

    @Override
    public Collection<String> drivable(Map<String, IntegrationConfig> integrations) {
      return null;
    }
  };

  /** Whether this node may act for the portal at this moment (any thread). */
  boolean isOwner(String portal);

  /** The fencing epoch this node acts under for the portal; empty when not the owner, or when nothing is fenced. */
  OptionalLong epoch(String portal);

  /** Called (on the ownership's own event loop) with the portal and its epoch when this node becomes its owner. */
  Ownership onAcquired(BiConsumer<String, Long> handler);

  /** Called (on the ownership's own event loop) when this node must stop acting for the portal. */
  Ownership onLost(Consumer<String> handler);

  /** The name this node acts under. */
  String owner();

  /**
   * How long after taking a portal over this node waits before it re-drives what earlier terms held. The previous
   * owner stopped sending a quarter of the lease before the lease could be taken at all; waiting another quarter
   * lets a request it sent just before that finish at the portal, so the look-up finds the lead it created.
   */
  default java.time.Duration settleAfterTakeover() {
    return java.time.Duration.ZERO;
  }

  /**
   * The integrations whose due deliveries this node may claim now: dry-run ones (no portal) and those of the
   * portals it owns. Null: all of them (a single node).
   */
  default Collection<String> drivable(Map<String, IntegrationConfig> integrations) {
    List<String> names = new ArrayList<>();
    integrations.forEach((name, integration) -> {
      if (integration.portal().map(portal -> isOwner(PortalOwnership.keyOf(portal))).orElse(true)) {
        names.add(name);
      }
    });
    return names;
  }
}
