package io.leadrelay.store;

/**
 * What an owner's outcome write is conditioned on in a shared store: the portal it sends for and the lease epoch it
 * acts under. Once another node has taken the portal (a higher epoch), the write changes nothing and fails with
 * {@link Fenced}: a node that lost its portal can no longer record outcomes for it.
 *
 * @param portal the portal's lease key (never a webhook code)
 * @param epoch  the fencing epoch of the owner's current term
 */
public record Fence(String portal, long epoch) {
}
