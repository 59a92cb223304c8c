package io.leadrelay.bitrix;

import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.Function;

/**
 * The leads waiting for one portal, sent in arrival order with at most {@code maxInFlight} requests open at
 * once. This is the one place that decides when a lead goes out, so a rate limiter (wait for a permit before
 * dispatching) and a batch packer (take up to 50 waiting leads per dispatch) fit in here later.
 * Not thread-safe: used from the owning verticle's event loop only.
 */
public final class PortalQueue<R> {

  private record Waiting<R>(LeadCommand command, Promise<R> promise) {
  }

  private final int maxInFlight;
  private final Function<LeadCommand, Future<R>> sender;
  private final Queue<Waiting<R>> waiting = new ArrayDeque<>();
  private int inFlight;
  private boolean dispatching;

  /** {@code sender} sends one lead and yields its outcome; the queue only decides when it is called. */
  public PortalQueue(int maxInFlight, Function<LeadCommand, Future<R>> sender) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1");
    }
    this.maxInFlight = maxInFlight;
    this.sender = sender;
  }

  /** Queues a lead; the future completes with the sender's outcome once the lead has had its turn. */
  public Future<R> submit(LeadCommand command) {
    Promise<R> promise = Promise.promise();
    waiting.add(new Waiting<>(command, promise));
    dispatch();
    return promise.future();
  }

  /** Leads waiting for their turn. */
  public int queued() {
    return waiting.size();
  }

  /** Requests sent and not answered yet. */
  public int inFlight() {
    return inFlight;
  }

  private void dispatch() {
    // A sender that completes at once re-enters here from its own completion; the flag turns that recursion
    // into this loop, so a long queue of instant failures cannot overflow the stack.
    if (dispatching) {
      return;
    }
    dispatching = true;
    try {
      while (inFlight < maxInFlight && !waiting.isEmpty()) {
        Waiting<R> next = waiting.poll();
        inFlight++;
        send(next.command()).onComplete(ar -> {
          inFlight--;
          next.promise().handle(ar);
          dispatch();
        });
      }
    } finally {
      dispatching = false;
    }
  }

  private Future<R> send(LeadCommand command) {
    try {
      Future<R> sent = sender.apply(command);
      return sent != null ? sent : Future.failedFuture(new IllegalStateException("sender returned no future"));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
