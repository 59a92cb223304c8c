package io.leadrelay.metrics;

import io.leadrelay.store.Backlog;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The store's backlog as the backlog gauges read it: a snapshot taken by the store's backlog query at most once per
 * {@code maxAge}, however often and from however many listeners Prometheus scrapes. A failed query keeps the
 * previous snapshot (the store's own health says it failed).
 */
final class BacklogGauges {

  private final Supplier<Future<List<Backlog>>> query;
  private final Duration maxAge;
  private final Clock clock;
  private final AtomicReference<Future<Void>> refreshing = new AtomicReference<>();
  private volatile Map<String, Backlog> latest = Map.of();
  private volatile Instant takenAt = Instant.EPOCH;

  BacklogGauges(Supplier<Future<List<Backlog>>> query, Duration maxAge, Clock clock) {
    this.query = query;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /** Completes once the snapshot is at most {@code maxAge} old (or the query failed); never fails. */
  Future<Void> refresh() {
    if (Duration.between(takenAt, clock.instant()).compareTo(maxAge) < 0) {
      return Future.succeededFuture();
    }
    Promise<Void> mine = Promise.promise();
    Future<Void> running = refreshing.compareAndExchange(null, mine.future());
    if (running != null) {
      return running;
    }
    Future<List<Backlog>> asked;
    try {
      asked = query.get();
    } catch (RuntimeException e) {
      asked = Future.failedFuture(e);
    }
    asked.onComplete(ar -> {
      if (ar.succeeded()) {
        Map<String, Backlog> byIntegration = new HashMap<>();
        ar.result().forEach(backlog -> byIntegration.put(backlog.integration(), backlog));
        latest = byIntegration;
        takenAt = clock.instant();
      }
      refreshing.set(null);
      mine.complete();
    });
    return mine.future();
  }

  long pending(String integration) {
    Backlog backlog = latest.get(integration);
    return backlog == null ? 0 : backlog.pending();
  }

  long dead(String integration) {
    Backlog backlog = latest.get(integration);
    return backlog == null ? 0 : backlog.dead();
  }

  /** Seconds since the oldest pending delivery arrived, 0 when none is pending. */
  double oldestPendingAgeSeconds(String integration) {
    Backlog backlog = latest.get(integration);
    if (backlog == null || backlog.pending() == 0 || backlog.oldestPendingReceivedAt() == null) {
      return 0;
    }
    return Math.max(0, Duration.between(backlog.oldestPendingReceivedAt(), clock.instant()).toMillis() / 1000.0);
  }
}
