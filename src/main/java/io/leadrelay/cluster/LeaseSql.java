package io.leadrelay.cluster;

/**
 * The SQL of the portal leases (table {@code portal_leases}, migration V50). Every time in it is the database's
 * {@code now()}: nodes' clocks never decide who owns a portal.
 */
public final class LeaseSql {

  /**
   * Takes or renews the lease of portal $1 for node $2 for $3 seconds, and returns its epoch; no row when another
   * node holds a live lease. The epoch stays while the same node renews a live lease and grows at any other grant
   * (a takeover, or a node taking back a lease that ran out). Two contenders on one expired row: the second waits
   * for the first's row lock, then finds a live lease that is not its own and gets nothing.
   */
  static final String ACQUIRE = """
      INSERT INTO portal_leases AS l (portal, owner, epoch, expires_at)
      VALUES ($1, $2, 1, now() + make_interval(secs => $3::float8))
      ON CONFLICT (portal) DO UPDATE
        SET owner = EXCLUDED.owner,
            epoch = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
            expires_at = EXCLUDED.expires_at
        WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now()
      RETURNING l.epoch""";

  /** Gives the lease of portal $1 up at once, if node $2 still holds it under epoch $3 (an orderly shutdown). */
  static final String RELEASE =
      "UPDATE portal_leases SET expires_at = now() WHERE portal = $1 AND owner = $2 AND epoch = $3";

  /** The current epoch of portal $1. */
  static final String EPOCH = "SELECT epoch FROM portal_leases WHERE portal = $1";

  /** Every lease: who holds which portal, and whether that lease is still live. */
  static final String HOLDERS =
      "SELECT portal, owner, epoch, expires_at > now() AS live FROM portal_leases ORDER BY portal";

  private LeaseSql() {
  }

  /**
   * A condition for any statement an owner makes about its portal's deliveries: true only while {@code epoch} is
   * still the portal's current one, so a node whose lease was taken over can no longer write. For example
   * {@code UPDATE deliveries SET ... WHERE id = $1 AND } {@code guard("$2", "$3")}.
   *
   * @param portal the placeholder (or expression) of the portal key
   * @param epoch  the placeholder (or expression) of the epoch the writer acts under
   */
  public static String guard(String portal, String epoch) {
    return "EXISTS (SELECT 1 FROM portal_leases fence WHERE fence.portal = " + portal
        + " AND fence.epoch = " + epoch + ")";
  }
}
