package io.leadrelay.bench;

import io.leadrelay.metrics.RelayMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * What counting costs on the accept path: nanoseconds per {@link RelayMetrics#webhookAccepted} call, enabled and
 * disabled, on two threads at once (as two HTTP verticles would). A webhook's own accept costs about 100 µs of CPU
 * (10,000/s on 2 cores, BENCHMARKS.md), so anything in the tens of nanoseconds is below measurement there.
 * Run (after {@code mvn -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt}):
 * {@code java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.leadrelay.bench.MetricsOverheadBenchmark}
 */
public final class MetricsOverheadBenchmark {

  private static final int CALLS = 20_000_000;

  private MetricsOverheadBenchmark() {
  }

  public static void main(String[] args) throws InterruptedException {
    RelayMetrics enabled = new RelayMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    for (int round = 0; round < 3; round++) {
      System.out.printf("round %d: enabled %.1f ns/call, disabled %.1f ns/call%n", round, perCall(enabled),
          perCall(RelayMetrics.NONE));
    }
  }

  private static double perCall(RelayMetrics metrics) throws InterruptedException {
    Thread[] threads = new Thread[2];
    long start = System.nanoTime();
    for (int t = 0; t < threads.length; t++) {
      threads[t] = new Thread(() -> {
        for (int i = 0; i < CALLS; i++) {
          metrics.webhookAccepted("default", false);
        }
      });
      threads[t].start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    return (System.nanoTime() - start) / (double) CALLS;
  }
}
