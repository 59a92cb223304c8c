package io.leadrelay.config;

/**
 * Where and how the webhook endpoint listens. {@code requestTimeoutSeconds} is the time a request has, from its
 * head's arrival, to deliver its whole body: the idle timeout alone never stops a client that trickles one byte at
 * a time.
 */
public record HttpConfig(String host, int port, int instances, int bodyLimitBytes, int idleTimeoutSeconds,
    int requestTimeoutSeconds) {
}
