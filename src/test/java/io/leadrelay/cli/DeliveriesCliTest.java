package io.leadrelay.cli;

import io.leadrelay.http.DeliveryIds;
import io.leadrelay.store.Attempt;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line against a store file the test fills in, configured like the relay (a config file and the
 * environment). The test keeps its own connection to the store open throughout, as the running relay would.
 */
@ExtendWith(VertxExtension.class)
class DeliveriesCliTest {

  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  private static final String REASON = "Bitrix24 refused the lead (HTTP 400): Не заполнено обязательное поле "
      + "\"Телефон\" — and a long tail that a table cannot show in full";

  @TempDir
  Path dir;

  private DeliveryStore store;
  private Map<String, String> env;
  private String dead;
  private String delivered;
  private String pending;

  /** What one run printed, and how it exited. */
  private record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void relayDataWithThreeDeliveries(Vertx vertx) throws IOException {
    Path config = dir.resolve("config.json");
    Files.writeString(config, new JsonObject()
        .put("dataDir", dir.resolve("data").toString())
        .put("integrations", new JsonObject().put("default", new JsonObject()
            .put("secret", "cli-test-secret-0123456789")
            .put("mapping", new JsonObject().put("fieldMap", new JsonObject().put("Телефон", "PHONE")))))
        .encodePrettily());
    env = Map.of("CONFIG_PATH", config.toString());
    store = await(SqliteDeliveryStore.open(vertx, dir.resolve("data/leadrelay.db"), "NORMAL"));
    dead = accept(0, "{\"name\":\"Иван\",\"Телефон\":\"+79991234567\"}");
    await(store.markDead(dead, REASON, new Attempt(T0.plusSeconds(1), "rejected", "LEAD_REJECTED", 400, "",
        "Не заполнено обязательное поле \"Телефон\"", null)));
    delivered = accept(10, "{\"name\":\"Готово\"}");
    await(store.markDelivered(delivered, 4711L, new Attempt(T0.plusSeconds(11), "created", null, 200, null, null,
        null)));
    pending = accept(20, "{\"name\":\"Ждёт\"}");
  }

  @AfterEach
  void closeStore() {
    await(store.close());
  }

  private String accept(int seconds, String json) {
    Instant at = T0.plusSeconds(seconds);
    String id = new DeliveryIds(Clock.fixed(at, ZoneOffset.UTC)).next();
    await(store.accept(new NewDelivery(new Delivery(id, "default", at, "203.0.113.7", new JsonObject(json)),
        "hash-" + id), Duration.ofMinutes(10), null));
    return id;
  }

  private Run run(String... args) {
    return run(env, args);
  }

  private static Run run(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = DeliveriesCli.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void listPrintsATableNewestFirst() {
    Run all = run("deliveries", "list");

    assertEquals(0, all.exit(), all.err());
    List<String> lines = all.out().lines().toList();
    assertEquals(4, lines.size(), all.out());
    assertTrue(lines.get(0).startsWith("ID "), lines.get(0));
    assertTrue(lines.get(0).contains("LAST ERROR"), lines.get(0));
    assertTrue(lines.get(1).startsWith(pending + "  PENDING"), lines.get(1));
    assertTrue(lines.get(2).startsWith(delivered + "  DELIVERED"), lines.get(2));
    assertTrue(lines.get(2).contains("4711"), lines.get(2));
    assertTrue(lines.get(3).startsWith(dead + "  DEAD"), lines.get(3));
    assertTrue(lines.get(3).contains("2026-11-23 10:00:00"), lines.get(3));
    assertTrue(lines.get(3).endsWith(DeliveryTable.truncate(REASON)), lines.get(3));
    assertTrue(lines.get(3).endsWith("..."), "a long reason is cut: " + lines.get(3));
  }

  @Test
  void aRowWhosePayloadCannotBeReadIsListedAndShownDeadWithItsReason() {
    // As an older release stored the poison webhook: "a\ud800" became a second "a?".
    String poison = "{\"name\":\"x\",\"a?\":1,\"a?\":2}";
    String id = new DeliveryIds(Clock.fixed(T0.plusSeconds(30), ZoneOffset.UTC)).next();
    io.leadrelay.testing.LegacyRows.insertPending(dir.resolve("data/leadrelay.db"), id, "default",
        T0.plusSeconds(30).toEpochMilli(), poison);

    Run list = run("deliveries", "list");
    assertEquals(0, list.exit(), list.err());
    String first = list.out().lines().toList().get(1);
    assertTrue(first.startsWith(id + "  DEAD"), first);
    assertTrue(first.contains("stored payload cannot be read"), first);
    assertTrue(list.out().contains(pending + "  PENDING"), "the other rows are listed too: " + list.out());

    Run show = run("deliveries", "show", id);
    assertEquals(0, show.exit(), show.err());
    assertEquals(poison, new JsonObject(show.out()).getString("unreadablePayload"));
  }

  @Test
  void listFiltersByStateAndPointsToTheNextPage() {
    Run deadOnly = run("deliveries", "list", "--state", "dead");
    assertEquals(0, deadOnly.exit(), deadOnly.err());
    assertEquals(2, deadOnly.out().lines().count(), deadOnly.out());
    assertTrue(deadOnly.out().contains(dead), deadOnly.out());

    Run first = run("deliveries", "list", "--limit=1");
    assertEquals(0, first.exit(), first.err());
    List<String> lines = first.out().lines().toList();
    assertTrue(lines.get(1).startsWith(pending), first.out());
    assertEquals("More: deliveries list --limit 1 --before " + pending, lines.get(2));

    Run second = run("deliveries", "list", "--limit", "1", "--before", pending);
    assertTrue(second.out().lines().toList().get(1).startsWith(delivered), second.out());

    Run none = run("deliveries", "list", "--state", "DEAD", "--before", dead);
    assertEquals(0, none.exit());
    assertEquals("No DEAD deliveries.", none.out().trim());
  }

  @Test
  void showPrintsTheDeliveryWithWhatTheCurrentMappingWouldSend() {
    Run shown = run("deliveries", "show", dead);

    assertEquals(0, shown.exit(), shown.err());
    JsonObject json = new JsonObject(shown.out());
    assertEquals("DEAD", json.getString("state"));
    assertEquals(REASON, json.getString("lastError"));
    assertEquals("LEAD_REJECTED", json.getJsonArray("history").getJsonObject(0).getString("errorClass"));
    assertEquals("+79991234567", json.getJsonObject("mappedFields").getJsonArray("PHONE").getJsonObject(0)
        .getString("VALUE"));
    assertTrue(shown.out().contains("\n  \"state\""), "pretty-printed: " + shown.out());

    Run unknown = run("deliveries", "show", "01KAQ3V8N5X6Q0G1M2ZC4T7H9E");
    assertEquals(1, unknown.exit());
    assertEquals("No delivery with id 01KAQ3V8N5X6Q0G1M2ZC4T7H9E.", unknown.err().trim());
  }

  @Test
  void retryReplaysADeadDeliveryInTheStoreTheRelayHoldsOpen() {
    Run retried = run("deliveries", "retry", dead);

    assertEquals(0, retried.exit(), retried.err());
    assertTrue(retried.out().startsWith("Delivery " + dead + " is PENDING and due now"), retried.out());
    DeliveryRecord record = await(store.find(dead)).orElseThrow();
    assertEquals(DeliveryState.PENDING, record.state(), "seen through the relay's own connection");
    assertFalse(record.nextAttemptAt().isAfter(Instant.now()), "due now");
  }

  @Test
  void retryRefusesADeliveredOneAndAnUnknownId() {
    Run refused = run("deliveries", "retry", delivered);
    assertEquals(1, refused.exit());
    assertEquals("Delivery " + delivered + " is DELIVERED (lead 4711): replaying it would create a second lead.",
        refused.err().trim());
    assertEquals(DeliveryState.DELIVERED, await(store.find(delivered)).orElseThrow().state());

    Run unknown = run("deliveries", "retry", "01KAQ3V8N5X6Q0G1M2ZC4T7H9E");
    assertEquals(1, unknown.exit());
    assertEquals("No delivery with id 01KAQ3V8N5X6Q0G1M2ZC4T7H9E.", unknown.err().trim());
  }

  @Test
  void retryByStateReplaysEveryDeliveryInIt() {
    Run retried = run("deliveries", "retry", "--state", "DEAD");

    assertEquals(0, retried.exit(), retried.err());
    assertTrue(retried.out().startsWith("Replayed 1 DEAD delivery:"), retried.out());
    assertEquals(DeliveryState.PENDING, await(store.find(dead)).orElseThrow().state());

    Run again = run("deliveries", "retry", "--state", "DEAD");
    assertEquals("No DEAD deliveries to replay.", again.out().trim());
  }

  @Test
  void badUsageExitsWith2AndPrintsTheUsage() {
    for (String[] args : List.of(new String[] {"deliveries"}, new String[] {"frobnicate"},
        new String[] {"deliveries", "list", "--state", "LOST"}, new String[] {"deliveries", "list", "--limit", "0"},
        new String[] {"deliveries", "list", "--colour", "red"}, new String[] {"deliveries", "retry"},
        new String[] {"deliveries", "retry", "--state", "DELIVERED"}, new String[] {"deliveries", "show", "a", "b"},
        new String[] {"deliveries", "retry", dead, "--state", "DEAD"})) {
      Run bad = run(args);
      assertEquals(2, bad.exit(), String.join(" ", args));
      assertTrue(bad.err().contains("Usage:"), bad.err());
      assertEquals("", bad.out());
    }
    Run state = run("deliveries", "list", "--state", "LOST");
    assertTrue(state.err().startsWith("--state must be PENDING, DELIVERED or DEAD, got 'LOST'."), state.err());
    assertEquals(DeliveryState.DEAD, await(store.find(dead)).orElseThrow().state(), "nothing was done");
  }

  @Test
  void helpPrintsTheUsage() {
    Run help = run("--help");
    assertEquals(0, help.exit());
    assertTrue(help.out().startsWith("Usage:"), help.out());
    assertTrue(help.out().contains("deliveries retry --state DEAD|PENDING"), help.out());
  }

  @Test
  void aConfigurationOrDataDirWithoutAStoreExitsWith2() throws IOException {
    Run missingConfig = run(Map.of("CONFIG_PATH", dir.resolve("nope.json").toString()), "deliveries", "list");
    assertEquals(2, missingConfig.exit());
    assertTrue(missingConfig.err().startsWith("LeadRelay cannot read its configuration: CONFIG_PATH is "),
        missingConfig.err());

    // (ConfigLoader takes only CONFIG_PATH from the map it is given; the other variables from the process.)
    Path elsewhere = dir.resolve("elsewhere");
    Path otherConfig = dir.resolve("other.json");
    Files.writeString(otherConfig, new JsonObject().put("dataDir", elsewhere.toString()).encode());
    Run noStore = run(Map.of("CONFIG_PATH", otherConfig.toString()), "deliveries", "list");
    assertEquals(2, noStore.exit());
    assertTrue(noStore.err().startsWith("There is no delivery store at " + elsewhere.resolve("leadrelay.db")),
        noStore.err());
    assertFalse(Files.exists(elsewhere.resolve("leadrelay.db")), "no empty store is created");
    assertFalse(Files.exists(elsewhere.resolve("secret-default.txt")), "a command generates no webhook secret");
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within 5 s", e);
    }
  }
}
