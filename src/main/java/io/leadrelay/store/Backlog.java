package io.leadrelay.store;

import java.time.Instant;

/** How much one integration has waiting: pending deliveries, the oldest one's arrival, and dead ones. */
public record Backlog(String integration, long pending, Instant oldestPendingReceivedAt, long dead) {
}
