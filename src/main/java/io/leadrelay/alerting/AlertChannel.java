package io.leadrelay.alerting;

import io.vertx.core.Future;

import java.time.Duration;

/** One place an alert can be sent to. Implementations never put their secret (URL, token, password) in a failure. */
interface AlertChannel {

  /** Succeeds once the channel has taken the alert. */
  Future<Void> send(Alert alert);

  /** The channel without its secret, for error.log. */
  String describe();

  /** A failure the channel explained: the receiver asked to wait ({@code retryAfter}, or null: the usual backoff). */
  final class NotSent extends RuntimeException {
    private final Duration retryAfter;

    NotSent(String message, Duration retryAfter) {
      super(message, null, false, false);
      this.retryAfter = retryAfter;
    }

    Duration retryAfter() {
      return retryAfter;
    }
  }
}
