package io.leadrelay.bench;

import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryFilter;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.store.SubscriberText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How long the admin page's searches take on a SQLite store of N deliveries (default 100,000): a phone typed
 * another way, an e-mail, a Cyrillic name, a delivery id, a DEAD-only listing and the plain newest page, each the
 * median of 21 runs after 3 warm-up runs. Usage: {@code bench/search.sh [deliveries=100000]}.
 */
public final class SearchBenchmark {

  private SearchBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Vertx vertx = Vertx.vertx();
    Path dir = Files.createTempDirectory("leadrelay-search-bench");
    DeliveryStore store = SqliteDeliveryStore.open(vertx, dir.resolve("leadrelay.db"), "NORMAL")
        .await(30, TimeUnit.SECONDS);
    long started = System.nanoTime();
    Instant t0 = Instant.parse("2026-11-01T00:00:00Z");
    String someId = null;
    for (int chunk = 0; chunk < count; chunk += 1000) {
      List<Future<?>> accepts = new ArrayList<>();
      for (int i = chunk; i < Math.min(count, chunk + 1000); i++) {
        String id = String.format("01KB%022d", i);
        JsonObject payload = new JsonObject()
            .put("name", (i % 2 == 0 ? "Иван " : "Мария ") + "Подписчик" + i)
            .put("phone", String.format("+7 (9%02d) %03d-%02d-%02d", i % 100, i / 10_000 % 1000, i / 100 % 100,
                i % 100))
            .put("email", "user" + i + "@example.ru")
            .put("Бюджет", "9000.00")
            .put("comment", "Хочу консультацию по тарифу " + i);
        accepts.add(store.accept(new NewDelivery(new Delivery(id, "main", t0.plusSeconds(i), "203.0.113.7",
            payload), "hash-" + i), Duration.ZERO, null));
        if (i == count / 2) {
          someId = id;
        }
      }
      Future.all(accepts).await(120, TimeUnit.SECONDS);
    }
    // Every 50th one DEAD, as after a bad day.
    List<Future<?>> dead = new ArrayList<>();
    for (int i = 0; i < count; i += 50) {
      dead.add(store.markDead(String.format("01KB%022d", i), "refused",
          new Attempt(t0, "rejected", "LEAD_REJECTED", 400, "", "refused", null)));
    }
    Future.all(dead).await(300, TimeUnit.SECONDS);
    System.out.printf("%d deliveries stored in %.1f s%n", count, (System.nanoTime() - started) / 1e9);

    int target = count / 3;
    String phone = String.format("8 9%02d %03d %02d %02d", target % 100, target / 10_000 % 1000, target / 100 % 100,
        target % 100);
    time(store, "phone, another way (" + phone + ")", filter(null, phone));
    time(store, "e-mail (user" + target + "@example.ru)", filter(null, "user" + target + "@example.ru"));
    time(store, "name, other case (ПОДПИСЧИК" + target + ")", filter(null, "ПОДПИСЧИК" + target));
    time(store, "delivery id", filter(null, someId));
    time(store, "no match", filter(null, "nobody@nowhere.test"));
    time(store, "DEAD, newest page", filter(DeliveryState.DEAD, null));
    time(store, "newest page, no filter", DeliveryFilter.ALL);
    store.close().await(30, TimeUnit.SECONDS);
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  private static DeliveryFilter filter(DeliveryState state, String query) {
    return new DeliveryFilter(state, null, null, null, SubscriberText.needle(query), null);
  }

  private static void time(DeliveryStore store, String what, DeliveryFilter filter) throws Exception {
    long[] millis = new long[21];
    List<DeliveryRecord> found = List.of();
    for (int run = -3; run < millis.length; run++) {
      long start = System.nanoTime();
      found = store.search(filter, 51).await(60, TimeUnit.SECONDS);
      if (run >= 0) {
        millis[run] = (System.nanoTime() - start) / 1_000_000;
      }
    }
    Arrays.sort(millis);
    System.out.printf("%-45s median %4d ms, max %4d ms, %d found%n", what, millis[millis.length / 2],
        millis[millis.length - 1], found.size());
  }
}
