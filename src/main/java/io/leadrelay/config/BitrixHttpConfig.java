package io.leadrelay.config;

/**
 * How LeadRelay talks to Bitrix24 portals. {@code requestTimeoutMs} is one total deadline per request: getting a
 * connection, sending, the answer's headers and its whole body (a portal that sends headers and then stalls or
 * trickles is cut off at it; the lead may then exist, so the outcome is ambiguous). {@code connectTimeoutMs} bounds
 * getting a connection (nothing was sent). {@code maxConcurrentPerPortal} caps requests in flight to one portal.
 * {@code maxAnswerBytes} caps an answer's body, enforced while it streams in. {@code redirectHosts} are the hosts,
 * besides Bitrix24's own cloud domains, that a portal's redirect may lead to.
 */
public record BitrixHttpConfig(int connectTimeoutMs, int requestTimeoutMs, int maxConcurrentPerPortal,
                               int maxAnswerBytes, RedirectHosts redirectHosts) {

  /** 10 MiB: a page of 50 leads with every field is well under 1 MiB; anything near this is not a REST answer. */
  public static final int DEFAULT_MAX_ANSWER_BYTES = 10 * 1024 * 1024;

  /** The default answer cap and no extra redirect hosts. */
  public BitrixHttpConfig(int connectTimeoutMs, int requestTimeoutMs, int maxConcurrentPerPortal) {
    this(connectTimeoutMs, requestTimeoutMs, maxConcurrentPerPortal, DEFAULT_MAX_ANSWER_BYTES, RedirectHosts.NONE);
  }
}
