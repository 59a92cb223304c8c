package io.leadrelay.config;

/**
 * How LeadRelay talks to Bitrix24 portals. {@code requestTimeoutMs} bounds the wait for an answer once a request
 * has been sent (a lead may then exist: the outcome is ambiguous); {@code connectTimeoutMs} bounds getting a
 * connection (nothing was sent). {@code maxConcurrentPerPortal} caps requests in flight to one portal.
 */
public record BitrixHttpConfig(int connectTimeoutMs, int requestTimeoutMs, int maxConcurrentPerPortal) {
}
