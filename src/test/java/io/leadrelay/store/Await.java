package io.leadrelay.store;

import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Waits for a store's answer on the test thread (never an event loop), with a short bound. */
final class Await {

  private Await() {
  }

  static <T> T await(Future<T> future) {
    try {
      return future.await(5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      return fail("no answer within 5 s");
    }
  }

  static Throwable awaitFailure(Future<?> future) {
    try {
      future.await(5, TimeUnit.SECONDS);
      return fail("expected a failure, got success");
    } catch (TimeoutException e) {
      return fail("no answer within 5 s");
    } catch (Exception e) {
      // await rethrows the failure itself, checked or not.
      assertTrue(future.failed());
      return future.cause();
    }
  }
}
