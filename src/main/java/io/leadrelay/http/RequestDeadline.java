package io.leadrelay.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * The time one webhook request has, from its head's arrival, to deliver its whole body. The idle timeout only
 * notices a connection that sends nothing at all, so a client trickling one byte a second would otherwise hold a
 * connection and a half-read body forever. A Vert.x timer, cancelled once the body is complete.
 */
final class RequestDeadline {

  private final Vertx vertx;
  private final long timer;
  private final Promise<Void> expired = Promise.promise();

  RequestDeadline(Vertx vertx, long millis) {
    this.vertx = vertx;
    this.timer = vertx.setTimer(millis, id -> expired.tryComplete());
  }

  /** Completes when the time is up; never, once {@link #cancel()}led. */
  Future<Void> expired() {
    return expired.future();
  }

  /** The body is complete (or the connection gone): the deadline no longer applies. */
  void cancel() {
    vertx.cancelTimer(timer);
  }
}
