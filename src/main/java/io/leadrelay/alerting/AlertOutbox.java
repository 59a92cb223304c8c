package io.leadrelay.alerting;

import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.logging.SecretMasker;
import io.leadrelay.ops.Durations;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * Sends alerts, each to each of its channels, without ever holding anything else up: a bounded queue, a few sends
 * at a time, and a failed send retried with a growing wait (or the wait the receiver asked for) until it is taken
 * or given up. Every failure is told to error.log through {@code failures}, masked: no token or secret URL.
 * Not thread-safe: owned by one verticle's event loop.
 */
final class AlertOutbox {

  /** Sends waiting or being retried at most; past it new ones are dropped (and said so), never memory exhausted. */
  static final int CAPACITY = 1000;
  private static final int MAX_IN_FLIGHT = 4;
  private static final int MAX_ATTEMPTS = 12;
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

  /** Runs a task after a delay in milliseconds (on the owner's event loop). */
  interface Scheduler {
    void schedule(long delayMs, Runnable task);
  }

  private record Job(Alert alert, AlertChannel channel, int attempts) {
  }

  private final Scheduler scheduler;
  private final Duration firstBackoff;
  private final SecretMasker masker;
  private final Consumer<ErrorEvent> failures;
  private final Deque<Job> ready = new ArrayDeque<>();
  /** Jobs taken: ready, in flight or waiting for a retry; bounded by {@link #CAPACITY}. */
  private int held;
  private int inFlight;
  private boolean closed;

  AlertOutbox(Scheduler scheduler, Duration firstBackoff, SecretMasker masker, Consumer<ErrorEvent> failures) {
    this.scheduler = scheduler;
    this.firstBackoff = firstBackoff;
    this.masker = masker;
    this.failures = failures;
  }

  /** Queues the alert for each channel; false for each that did not fit. */
  void offer(Alert alert, Iterable<AlertChannel> channels) {
    for (AlertChannel channel : channels) {
      if (closed) {
        return;
      }
      if (held >= CAPACITY) {
        fail(alert, channel, "the alert queue is full (" + CAPACITY + " waiting)", "dropped");
        continue;
      }
      held++;
      ready.add(new Job(alert, channel, 0));
    }
    pump();
  }

  /** Nothing more is sent; what waits is dropped (the relay is stopping). */
  void close() {
    closed = true;
    ready.clear();
  }

  int held() {
    return held;
  }

  private void pump() {
    while (!closed && inFlight < MAX_IN_FLIGHT && !ready.isEmpty()) {
      Job job = ready.poll();
      inFlight++;
      job.channel().send(job.alert()).onComplete(sent -> {
        inFlight--;
        if (sent.succeeded()) {
          held--;
        } else {
          retryOrGiveUp(job, sent.cause());
        }
        pump();
      });
    }
  }

  private void retryOrGiveUp(Job job, Throwable cause) {
    int attempts = job.attempts() + 1;
    String why = cause instanceof AlertChannel.NotSent notSent ? notSent.getMessage()
        : cause.getClass().getSimpleName();
    if (attempts >= MAX_ATTEMPTS || closed) {
      held--;
      fail(job.alert(), job.channel(), why + "; given up after " + attempts + " attempts", "given up");
      return;
    }
    // The receiver's own wait is honoured up to the longest backoff: a retry_after of a billion seconds (a broken
    // proxy, a hostile endpoint) would otherwise hold the alert, and a slot of the queue every channel shares, for
    // good. Asking too early costs one more attempt, not the alert.
    Duration wait = cause instanceof AlertChannel.NotSent notSent && notSent.retryAfter() != null
        ? min(notSent.retryAfter(), MAX_BACKOFF) : backoff(attempts);
    fail(job.alert(), job.channel(), why, "retry in " + Durations.words(wait));
    scheduler.schedule(Math.max(1, wait.toMillis()), () -> {
      if (!closed) {
        ready.add(new Job(job.alert(), job.channel(), attempts));
        pump();
      } else {
        held--;
      }
    });
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) > 0 ? b : a;
  }

  private Duration backoff(int attempts) {
    Duration wait = firstBackoff.multipliedBy(1L << Math.min(attempts - 1, 20));
    return wait.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait;
  }

  private void fail(Alert alert, AlertChannel channel, String why, String next) {
    failures.accept(new ErrorEvent("alert", null, alert.integration(), "alert_not_sent",
        masker.mask("The alert \"" + alert.subject() + "\" was not sent to " + channel.describe() + ": " + why),
        null, null, null, null, next));
  }
}
