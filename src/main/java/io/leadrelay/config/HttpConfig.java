package io.leadrelay.config;

/**
 * Where and how the webhook endpoint listens. {@code requestTimeoutSeconds} is the time a request has, from its
 * head's arrival, to deliver its whole body: the idle timeout alone never stops a client that trickles one byte at
 * a time. {@code trustedProxies} are the reverse proxies whose X-Forwarded-For names the client.
 */
public record HttpConfig(String host, int port, int instances, int bodyLimitBytes, int idleTimeoutSeconds,
    int requestTimeoutSeconds, TrustedProxies trustedProxies) {

  /** Behind no trusted proxy. */
  public HttpConfig(String host, int port, int instances, int bodyLimitBytes, int idleTimeoutSeconds,
                    int requestTimeoutSeconds) {
    this(host, port, instances, bodyLimitBytes, idleTimeoutSeconds, requestTimeoutSeconds, TrustedProxies.NONE);
  }
}
