package io.leadrelay.store;

import java.time.Clock;
import java.time.Instant;

/**
 * Whose clock a shared store decides due-ness and leases by. Callers pass instants they computed from their own
 * clock ("now", "now + backoff", "now + lease"); nodes' clocks drift apart, and a node whose clock runs ahead would
 * take over leases that have not expired. So in a shared store each such instant is kept as its distance from the
 * node's now, laid onto the database's now: {@link #absolute} is null and {@link #fromNow} carries the distance,
 * and the SQL reads {@code COALESCE(absolute, database now + fromNow)}. The caller's clock as it is ({@link
 * #caller()}) is for the contract tests, which drive the store with a fixed clock as they do the SQLite one.
 */
abstract class StoreClock {

  /** The instant to store as it is, or null to take the database's now plus {@link #fromNow}. */
  abstract Long absolute(Instant instant);

  /** Milliseconds from the node's now to the instant (0 when {@link #absolute} is given). */
  abstract long fromNow(Instant instant);

  /** Production: the database's clock, with the node's clock only measuring distances from now. */
  static StoreClock database(Clock nodeClock) {
    return new StoreClock() {
      @Override
      Long absolute(Instant instant) {
        return null;
      }

      @Override
      long fromNow(Instant instant) {
        return instant.toEpochMilli() - nodeClock.millis();
      }
    };
  }

  /** Tests of the contract: the caller's instants as they are. */
  static StoreClock caller() {
    return new StoreClock() {
      @Override
      Long absolute(Instant instant) {
        return instant.toEpochMilli();
      }

      @Override
      long fromNow(Instant instant) {
        return 0;
      }
    };
  }
}
