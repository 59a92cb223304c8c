package io.leadrelay.config;

/** Where and how the webhook endpoint listens. */
public record HttpConfig(String host, int port, int instances, int bodyLimitBytes, int idleTimeoutSeconds) {
}
