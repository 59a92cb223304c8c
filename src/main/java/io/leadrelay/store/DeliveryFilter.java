package io.leadrelay.store;

import java.time.Instant;

/**
 * Which deliveries an operator is looking for: any of a state, an integration, a range of arrival times and a
 * search text, newest first below {@code beforeId} (paging). Null parts do not filter.
 *
 * @param needle       the normalised search text ({@link SubscriberText#needle}): matched against the subscriber's
 *                     names, phone and e-mail, or equal to the delivery id
 * @param receivedFrom arrived at or after (inclusive)
 * @param receivedTo   arrived before (exclusive)
 */
public record DeliveryFilter(DeliveryState state, String integration, Instant receivedFrom, Instant receivedTo,
                             String needle, String beforeId) {

  public static final DeliveryFilter ALL = new DeliveryFilter(null, null, null, null, null, null);

  public DeliveryFilter withState(DeliveryState newState) {
    return new DeliveryFilter(newState, integration, receivedFrom, receivedTo, needle, beforeId);
  }

  public DeliveryFilter before(String id) {
    return new DeliveryFilter(state, integration, receivedFrom, receivedTo, needle, id);
  }

  /** True when only the state (or nothing) is asked: the whole of a state, as the plain listing gives it. */
  public boolean onlyState() {
    return integration == null && receivedFrom == null && receivedTo == null && needle == null;
  }

  /** The needle as a delivery id: ids are upper-case ULIDs, and the needle is lower-cased (so both are tried). */
  String idNeedle() {
    return needle == null ? null : needle.toUpperCase(java.util.Locale.ROOT);
  }
}
