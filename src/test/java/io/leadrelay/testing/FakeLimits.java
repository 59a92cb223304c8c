package io.leadrelay.testing;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The two limits a Bitrix24 portal enforces, for the fake portal: the request leaky bucket (each HTTP request adds
 * one; it drains at {@code rate} per second; above {@code burst} requests are refused) and each method's operating
 * time in a sliding window (every crm.lead.add, alone or inside a batch, costs {@code costPerCall} seconds; past
 * {@code operatingLimit} within the window the method is blocked). Thread-safe.
 */
final class FakeLimits {

  private record Spent(long atMillis, double seconds) {
  }

  private final int burst;
  private final double ratePerMilli;
  private final double operatingLimit;
  private final long windowMillis;
  private final double costPerCall;
  private double level;
  private long updatedAt = System.currentTimeMillis();
  private final Map<String, Deque<Spent>> spent = new HashMap<>();

  FakeLimits(int burst, double ratePerSecond, double operatingLimit, long windowMillis, double costPerCall) {
    this.burst = burst;
    this.ratePerMilli = ratePerSecond / 1000.0;
    this.operatingLimit = operatingLimit;
    this.windowMillis = windowMillis;
    this.costPerCall = costPerCall;
  }

  /** Counts one HTTP request; false if the bucket refuses it. */
  synchronized boolean request() {
    long now = System.currentTimeMillis();
    level = Math.max(0, level - (now - updatedAt) * ratePerMilli);
    updatedAt = now;
    if (level + 1 > burst) {
      return false;
    }
    level += 1;
    return true;
  }

  /** True while the method has spent its operating time in the window. */
  synchronized boolean blocked(String method) {
    return operating(method) >= operatingLimit;
  }

  /** Charges one call of the method. */
  synchronized void charge(String method) {
    spent.computeIfAbsent(method, m -> new ArrayDeque<>()).add(new Spent(System.currentTimeMillis(), costPerCall));
  }

  /** Seconds the method spent in the current window. */
  synchronized double operating(String method) {
    Deque<Spent> calls = spent.getOrDefault(method, new ArrayDeque<>());
    long from = System.currentTimeMillis() - windowMillis;
    while (!calls.isEmpty() && calls.peek().atMillis() < from) {
      calls.poll();
    }
    return calls.stream().mapToDouble(Spent::seconds).sum();
  }

  /** Unix seconds when the oldest charge leaves the window (the window's reset time). */
  synchronized long resetAtEpochSecond(String method) {
    Deque<Spent> calls = spent.getOrDefault(method, new ArrayDeque<>());
    long oldest = calls.isEmpty() ? System.currentTimeMillis() : calls.peek().atMillis();
    return (long) Math.ceil((oldest + windowMillis) / 1000.0);
  }
}
