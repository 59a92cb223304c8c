package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.RelayCluster;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A stream of distinct webhooks through the cluster's load balancer, from a few senders that each pause between
 * webhooks, and what became of them: which delivery id each accepted webhook got, from which node, and the leads
 * the portal holds for them. Webhook {@code n} is {@code {"name":"<prefix> n", …}}, so a lead names its webhook.
 */
final class ClusterTraffic implements AutoCloseable {

  private final RelayCluster cluster;
  private final String prefix;
  private final int webhooks;
  private final long pauseMillis;
  private final ExecutorService senders;
  private final List<Future<?>> running = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();

  /** Delivery id → webhook number, and the node that answered 200. */
  final Map<String, Integer> accepted = new ConcurrentHashMap<>();
  final Map<String, String> acceptedBy = new ConcurrentHashMap<>();
  /** Delivery ids given to two different webhooks (must stay empty). */
  final Set<String> acceptedTwice = ConcurrentHashMap.newKeySet();

  ClusterTraffic(RelayCluster cluster, String prefix, int webhooks, int senders, long pauseMillis) {
    this.cluster = cluster;
    this.prefix = prefix;
    this.webhooks = webhooks;
    this.pauseMillis = pauseMillis;
    this.senders = Executors.newFixedThreadPool(senders);
    for (int i = 0; i < senders; i++) {
      running.add(this.senders.submit(this::send));
    }
  }

  /** Webhooks taken by a sender so far (sent, being sent or given up). */
  int started() {
    return Math.min(next.get(), webhooks);
  }

  /** Waits until every sender has sent its last webhook. */
  void awaitSent(Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    for (Future<?> sender : running) {
      sender.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  private void send() {
    try {
      for (int n = next.getAndIncrement(); n < webhooks; n = next.getAndIncrement()) {
        String body = "{\"name\":\"" + prefix + " " + n + "\",\"phone\":\"+7998" + String.format("%07d", n) + "\"}";
        Optional<RelayCluster.Answer> answer = cluster.post(body, Duration.ofSeconds(60));
        if (answer.isPresent() && answer.get().status() == 200) {
          String id = new JsonObject(answer.get().body()).getString("id");
          Integer earlier = accepted.putIfAbsent(id, n);
          if (earlier != null && earlier != n) {
            acceptedTwice.add(id);
          }
          acceptedBy.put(id, answer.get().node().id);
        }
        Thread.sleep(pauseMillis);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The portal's leads by ORIGIN_ID (the relay's delivery id). */
  static Map<String, List<JsonObject>> leadOrigins(FakeBitrixPortal portal) {
    return portal.leads().stream().collect(Collectors.groupingBy(lead -> String.valueOf(lead.getString("ORIGIN_ID"))));
  }

  /** ORIGIN_IDs with more than one lead, and how many. */
  static Map<String, Integer> duplicateOrigins(Map<String, List<JsonObject>> byOrigin) {
    Map<String, Integer> duplicates = new TreeMap<>();
    byOrigin.forEach((origin, leads) -> {
      if (leads.size() > 1) {
        duplicates.put(origin, leads.size());
      }
    });
    return duplicates;
  }

  /** Webhooks with more than one lead, by name (a retried webhook given a second delivery would show here). */
  static Map<String, Integer> duplicateNames(FakeBitrixPortal portal) {
    Map<String, Integer> duplicates = new TreeMap<>();
    portal.leads().stream().collect(Collectors.groupingBy(lead -> String.valueOf(lead.getString("NAME"))))
        .forEach((name, leads) -> {
          if (leads.size() > 1) {
            duplicates.put(name, leads.size());
          }
        });
    return duplicates;
  }

  /** Accepted webhooks without a lead. */
  List<String> missing(FakeBitrixPortal portal) {
    Set<String> origins = leadOrigins(portal).keySet();
    return accepted.keySet().stream().filter(id -> !origins.contains(id)).sorted().toList();
  }

  /** True once every accepted webhook has a lead. */
  boolean allDelivered(FakeBitrixPortal portal) {
    return leadOrigins(portal).keySet().containsAll(accepted.keySet());
  }

  /** Each accepted webhook's lead carries its own webhook's name; the first that does not, or empty. */
  Optional<String> wrongLead(Map<String, List<JsonObject>> byOrigin) {
    return accepted.entrySet().stream()
        .filter(e -> !(prefix + " " + e.getValue()).equals(byOrigin.get(e.getKey()).get(0).getString("NAME")))
        .map(e -> "delivery " + e.getKey() + " of webhook " + e.getValue() + " became "
            + byOrigin.get(e.getKey()).get(0).getString("NAME"))
        .findFirst();
  }

  @Override
  public void close() {
    senders.shutdownNow();
  }
}
