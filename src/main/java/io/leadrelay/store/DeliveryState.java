package io.leadrelay.store;

/** Where a delivery is in its life. */
public enum DeliveryState {
  /** Accepted, not yet a lead: waiting for its next attempt, or in flight. */
  PENDING,
  /** The lead exists in Bitrix24 (its id is recorded). */
  DELIVERED,
  /** Given up: Bitrix24 refused the lead's data, or it kept failing past the maximum age. Can be replayed. */
  DEAD
}
