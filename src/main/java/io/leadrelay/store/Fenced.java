package io.leadrelay.store;

/**
 * An outcome write refused because its {@link Fence} no longer holds: another node owns the portal now and drives
 * the delivery from the store (looking the lead up first). Nothing changed; nothing is to be announced.
 */
public final class Fenced extends RuntimeException {

  public Fenced(String deliveryId, Fence fence) {
    super("Delivery " + deliveryId + ": portal " + fence.portal() + " is no longer owned under epoch "
        + fence.epoch(), null, false, false);
  }
}
