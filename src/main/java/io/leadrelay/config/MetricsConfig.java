package io.leadrelay.config;

import java.util.OptionalInt;

/**
 * Prometheus metrics at {@code GET /metrics}. Enabled by default; with a {@code port} they are served there, on
 * the HTTP host, without authentication (a port that only the monitoring network reaches); without one they are
 * served on the webhook port behind the admin token, since that port faces the internet.
 *
 * @param port the separate metrics port, empty to serve on the webhook port (0: any free port, for tests)
 */
public record MetricsConfig(boolean enabled, OptionalInt port) {

  /** On the webhook port, behind the admin token: what a configuration that says nothing gets. */
  public static MetricsConfig onMainPort() {
    return new MetricsConfig(true, OptionalInt.empty());
  }

  /** Off: nothing is measured and /metrics is not there. */
  public static MetricsConfig disabled() {
    return new MetricsConfig(false, OptionalInt.empty());
  }

  /** On their own port (0: any free one). */
  public static MetricsConfig onPort(int port) {
    return new MetricsConfig(true, OptionalInt.of(port));
  }

  /** Whether /metrics has its own listener. */
  public boolean ownPort() {
    return enabled && port.isPresent();
  }
}
