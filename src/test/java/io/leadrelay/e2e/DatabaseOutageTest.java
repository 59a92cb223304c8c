package io.leadrelay.e2e;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.leadrelay.cluster.FreezableProxy;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.HttpConfig;
import io.leadrelay.store.PgSettings;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestPostgres;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared PostgreSQL store goes away under a running relay and comes back, as an operator's restart of the
 * database does it (every backend terminated, connections refused for a few seconds) and as a cut network does
 * (the database goes silent, and the connections that were open stay silent after the heal). What a user must see:
 * no 200 for a webhook that is not stored and a clear 503 within the request deadline instead, /health/ready DOWN
 * meanwhile, the relay taking webhooks again by itself once the database is back, every accepted webhook (the
 * one whose lead was being created at that moment included) exactly one lead, and two console lines for the
 * outage: no stack traces, no password.
 */
class DatabaseOutageTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  /** Given to the relay in its settings; the tests' server trusts the login, so it only has to show up nowhere. */
  private static final String PASSWORD = "db-pw-" + UUID.randomUUID().toString().substring(0, 12);
  private static final int DEADLINE_SECONDS = 3;
  private static final HttpConfig HTTP = new HttpConfig("127.0.0.1", 0, 1, 64 * 1024, 5, DEADLINE_SECONDS);
  /** Delivery leases far longer than the test: no lead may come back only because its lease ran out. */
  private static final DeliveryConfig LONG_LEASES = new DeliveryConfig("NORMAL", Duration.ofMillis(50),
      Duration.ofSeconds(2), Duration.ofHours(72), Duration.ofMinutes(10), Duration.ofMinutes(5),
      Duration.ofMillis(100), 200, 30);
  private static final long WAIT = 30;

  @TempDir
  Path dir;

  private final ListAppender<ILoggingEvent> console = new ListAppender<>();
  private Vertx vertx;

  @BeforeEach
  void listen() {
    // One database for the class: what an earlier test left PENDING must not reach this test's portal.
    database.execute("DO $$ BEGIN IF to_regclass('deliveries') IS NOT NULL THEN "
        + "TRUNCATE deliveries, repeat_guard, portal_leases CASCADE; END IF; END $$");
    console.start();
    root().addAppender(console);
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    try {
      database.executeOnServer("ALTER DATABASE " + database.settings().database() + " ALLOW_CONNECTIONS true");
      vertx.close().await(WAIT, TimeUnit.SECONDS);
    } finally {
      root().detachAppender(console);
    }
  }

  @Test
  void aRestartOfTheDatabaseIsRiddenOutAndTheLeadItInterruptedIsRecordedOnce() throws Exception {
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).await(WAIT, TimeUnit.SECONDS);
    TestRelay relay = TestRelay.startOnPostgres(vertx, dir, withPassword(database.settings()), "node-a", portal,
        Duration.ofSeconds(10), LONG_LEASES, HTTP).await(WAIT, TimeUnit.SECONDS);
    String run = UUID.randomUUID().toString();
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      accepted.add(accept(relay, body(run, i)));
    }
    relay.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);

    // The restart begins the moment the portal creates the next lead: its answer reaches a relay without a database.
    CountDownLatch restarting = new CountDownLatch(1);
    portal.onLead(fields -> {
      if (restarting.getCount() > 0) {
        refuseConnections();
        restarting.countDown();
      }
    });
    String interrupted = accept(relay, body(run, 5));
    accepted.add(interrupted);
    assertTrue(restarting.await(WAIT, TimeUnit.SECONDS), "the lead was created");
    long downAt = System.nanoTime();
    portal.onLead(fields -> { });

    Answer refused = post(relay, body(run, 6));
    assertEquals(503, refused.status(), refused.toString());
    assertEquals("store_unavailable", refused.body().getString("error"), refused.toString());
    assertTrue(refused.millis() < DEADLINE_SECONDS * 1000L + 1000, "answered within the deadline: " + refused);
    Answer ready = get(relay, "/health/ready");
    assertEquals(503, ready.status(), ready.toString());
    assertTrue(ready.body().encode().contains("STORE_FAILING"), ready.toString());
    Answer health = get(relay, "/health");
    assertEquals("DOWN", health.body().getJsonObject("parts").getJsonObject("store").getString("status"),
        health.toString());
    assertFalse(health.body().encode().contains(PASSWORD), health.toString());

    // A minor-version restart: a few seconds without connections.
    sleepUntil(downAt + TimeUnit.SECONDS.toNanos(3));
    database.executeOnServer("ALTER DATABASE " + database.settings().database() + " ALLOW_CONNECTIONS true");
    long backAt = System.nanoTime();

    // BotHelp sends the refused webhook again: taken once the relay finds its database again, no restart.
    String resent = acceptEventually(relay, body(run, 6));
    long firstAcceptedMillis = (System.nanoTime() - backAt) / 1_000_000;
    accepted.add(resent);
    relay.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
    relay.awaitLines("success", lines -> lines.stream().anyMatch(line -> interrupted.equals(line.getString("id"))))
        .await(WAIT, TimeUnit.SECONDS);
    long recordedMillis = (System.nanoTime() - backAt) / 1_000_000;
    assertEquals(200, get(relay, "/health/ready").status());
    System.out.println("DatabaseOutageTest restart: down " + (backAt - downAt) / 1_000_000 + " ms, first webhook"
        + " accepted " + firstAcceptedMillis + " ms after the database was back, the interrupted lead recorded after "
        + recordedMillis + " ms; leads=" + portal.leads().size());

    assertOneLineEach();
    assertFalse(relay.allFileContents().contains(PASSWORD), "no password in the log files");
  }

  @Test
  void aCutNetworkIsAnswered503InTimeAndTheRelayComesBackByItselfWhenItHeals() throws Exception {
    PgSettings direct = database.settings();
    FreezableProxy.Link behind = FreezableProxy.inFrontOf(vertx, direct, PASSWORD).await(WAIT, TimeUnit.SECONDS);
    FreezableProxy link = behind.proxy();
    PgSettings throughLink = behind.settings();
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).await(WAIT, TimeUnit.SECONDS);
    Duration ownerLease = Duration.ofSeconds(4);
    TestRelay relay = TestRelay.startOnPostgres(vertx, dir, throughLink, "node-a", portal, ownerLease, LONG_LEASES,
        HTTP).await(WAIT, TimeUnit.SECONDS);
    String run = UUID.randomUUID().toString();
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      accepted.add(accept(relay, body(run, i)));
    }
    relay.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
    long epochBefore = cluster(relay).getJsonObject("portals").getJsonObject(portalKey(portal)).getLong("epoch");

    // The network goes silent the moment the portal creates the next lead.
    CountDownLatch cut = new CountDownLatch(1);
    portal.onLead(fields -> {
      if (cut.getCount() > 0) {
        link.freeze();
        cut.countDown();
      }
    });
    String interrupted = accept(relay, body(run, 5));
    accepted.add(interrupted);
    assertTrue(cut.await(WAIT, TimeUnit.SECONDS), "the lead was created");
    long cutAt = System.nanoTime();
    portal.onLead(fields -> { });

    Answer refused = post(relay, body(run, 6));
    assertEquals(503, refused.status(), refused.toString());
    assertTrue(refused.millis() < DEADLINE_SECONDS * 1000L + 1000, "answered within the deadline: " + refused);
    Answer ready = get(relay, "/health/ready");
    assertEquals(503, ready.status(), ready.toString());
    assertTrue(ready.millis() < 3000, "readiness does not hang: " + ready);

    sleepUntil(cutAt + TimeUnit.SECONDS.toNanos(8));
    int callsWhileCut = portal.calls().size();
    link.thaw();
    long healedAt = System.nanoTime();

    String resent = acceptEventually(relay, body(run, 6));
    long firstAcceptedMillis = (System.nanoTime() - healedAt) / 1_000_000;
    accepted.add(resent);
    relay.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
    long drainedMillis = (System.nanoTime() - healedAt) / 1_000_000;
    relay.awaitLines("success", lines -> lines.stream().anyMatch(line -> interrupted.equals(line.getString("id"))))
        .await(WAIT, TimeUnit.SECONDS);
    JsonObject view = cluster(relay);
    System.out.println("DatabaseOutageTest cut: first webhook accepted " + firstAcceptedMillis + " ms after the heal,"
        + " every lead in " + drainedMillis + " ms; portal calls before the heal " + callsWhileCut + ", leads="
        + portal.leads().size() + "; " + view.encode());
    // Its lease could not be renewed through the cut: it stopped acting, and took the portal again after the heal.
    assertEquals("owner", view.getString("role"), view.encode());
    assertTrue(view.getJsonObject("portals").getJsonObject(portalKey(portal)).getLong("epoch") > epochBefore,
        "a new term after the cut: " + view.encode());

    assertOneLineEach();
    assertFalse(relay.allFileContents().contains(PASSWORD), "no password in the log files");
  }

  @Test
  void anOwnerCutOffFromTheDatabaseStopsAnotherTakesOverAndAfterTheHealItWorksAsAStandby() throws Exception {
    PgSettings direct = database.settings();
    FreezableProxy.Link behind = FreezableProxy.inFrontOf(vertx, direct, PASSWORD).await(WAIT, TimeUnit.SECONDS);
    FreezableProxy link = behind.proxy();
    PgSettings throughLink = behind.settings();
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).await(WAIT, TimeUnit.SECONDS);
    Duration ownerLease = Duration.ofSeconds(4);
    Vertx other = Vertx.vertx();
    try {
      TestRelay owner = TestRelay.startOnPostgres(vertx, dir.resolve("a"), throughLink, "node-a", portal, ownerLease,
          LONG_LEASES, HTTP).await(WAIT, TimeUnit.SECONDS);
      TestRelay standby = TestRelay.startOnPostgres(other, dir.resolve("b"), withPassword(direct), "node-b", portal,
          ownerLease, LONG_LEASES, HTTP).await(WAIT, TimeUnit.SECONDS);
      String run = UUID.randomUUID().toString();
      List<String> accepted = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        accepted.add(accept(owner, body(run, i)));
      }
      owner.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
      assertEquals("owner", cluster(owner).getString("role"));

      CountDownLatch cut = new CountDownLatch(1);
      portal.onLead(fields -> {
        if (cut.getCount() > 0) {
          link.freeze();
          cut.countDown();
        }
      });
      String interrupted = accept(owner, body(run, 5));
      accepted.add(interrupted);
      assertTrue(cut.await(WAIT, TimeUnit.SECONDS), "the lead was created");
      long cutAt = System.nanoTime();
      portal.onLead(fields -> { });
      int ownerLinesAtCut = owner.awaitLines("success", lines -> lines.size() >= 5).await(WAIT, TimeUnit.SECONDS)
          .size();

      // The other node keeps accepting; it takes the portal over and delivers, the cut-off lead looked up.
      for (int i = 6; i < 10; i++) {
        accepted.add(accept(standby, body(run, i)));
      }
      standby.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
      long takenOverMillis = (System.nanoTime() - cutAt) / 1_000_000;
      sleepUntil(cutAt + TimeUnit.SECONDS.toNanos(8));
      link.thaw();
      long healedAt = System.nanoTime();

      // Healed, the first node accepts again by itself, as a standby: the portal stays with the node that took it.
      accepted.add(acceptEventually(owner, body(run, 10)));
      long firstAcceptedMillis = (System.nanoTime() - healedAt) / 1_000_000;
      standby.awaitExactlyOneLeadEach(portal, accepted).await(WAIT, TimeUnit.SECONDS);
      JsonObject ownerView = cluster(owner);
      JsonObject standbyView = cluster(standby);
      System.out.println("DatabaseOutageTest two nodes: portal delivered by the other node " + takenOverMillis
          + " ms after the cut; the cut-off node accepted again " + firstAcceptedMillis + " ms after the heal");
      assertEquals("standby", ownerView.getString("role"), ownerView.encode());
      assertEquals("owner", standbyView.getString("role"), standbyView.encode());
      // No two senders: after the cut the first node recorded nothing more; everything since went through the other.
      assertEquals(ownerLinesAtCut, owner.lines("success").size(), "the cut-off node sent nothing more");
      int expected = accepted.size() - ownerLinesAtCut;
      standby.awaitLines("success", lines -> lines.size() >= expected).await(WAIT, TimeUnit.SECONDS);
      assertEquals(expected, standby.lines("success").size());
      assertTrue(standby.lines("success").stream().anyMatch(line -> interrupted.equals(line.getString("id"))
          && line.getBoolean("found", false)), "the lead created as the cut came was looked up, not added again");
    } finally {
      other.close().await(WAIT, TimeUnit.SECONDS);
    }
  }

  // --- what the console said ---

  /** One line when the store was lost, one when it was back; no stack trace and no password anywhere. */
  private void assertOneLineEach() {
    List<ILoggingEvent> events = List.copyOf(console.list);
    List<String> store = events.stream().filter(e -> e.getLoggerName().endsWith("PgDeliveryStore"))
        .map(ILoggingEvent::getFormattedMessage).toList();
    long lost = store.stream().filter(line -> line.contains("cannot be reached")).count();
    long back = store.stream().filter(line -> line.contains("answers again after")).count();
    String all = String.join("\n", events.stream().map(e -> e.getLevel() + " " + e.getLoggerName() + " - "
        + e.getFormattedMessage()).toList());
    assertEquals(1, lost, "one line when the store was lost:\n" + all);
    assertEquals(1, back, "one line when it was back:\n" + all);
    List<String> traces = events.stream().filter(e -> e.getThrowableProxy() != null)
        .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage() + " / " + e.getThrowableProxy().getMessage())
        .toList();
    assertEquals(List.of(), traces, "no stack traces:\n" + all);
    assertFalse(all.contains(PASSWORD), "no password in the console:\n" + all);
    long errors = events.stream().filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR))
        .count();
    assertEquals(0, errors, "no line per webhook or per outcome at ERROR:\n" + all);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  // --- the database ---

  private static PgSettings withPassword(PgSettings settings) {
    return new PgSettings(settings.host(), settings.port(), settings.database(), settings.user(), PASSWORD,
        settings.sslMode(), settings.poolSize());
  }

  /** What a restart does to the relay's side: every backend terminated (57P01), no new connection taken. */
  private static void refuseConnections() {
    String name = database.settings().database();
    database.executeOnServer("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
    database.executeOnServer("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name
        + "' AND pid <> pg_backend_pid()");
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  // --- HTTP ---

  private record Answer(int status, JsonObject body, long millis) {
  }

  private static String body(String run, int i) {
    return "{\"name\":\"Иван " + i + "\",\"phone\":\"+7999000" + i + "\",\"run\":\"" + run + "\"}";
  }

  private Answer post(TestRelay relay, String body) throws Exception {
    long started = System.nanoTime();
    HttpResponse<Buffer> response = relay.client().post(relay.port(), "127.0.0.1", "/webhook/default/"
            + TestRelay.SECRET).putHeader("Content-Type", "application/json")
        .timeout(DEADLINE_SECONDS * 1000L + 5000).sendBuffer(Buffer.buffer(body)).await(WAIT, TimeUnit.SECONDS);
    return new Answer(response.statusCode(), response.bodyAsJsonObject(), (System.nanoTime() - started) / 1_000_000);
  }

  private Answer get(TestRelay relay, String path) throws Exception {
    long started = System.nanoTime();
    HttpResponse<Buffer> response = relay.client().get(relay.port(), "127.0.0.1", path).timeout(10_000).send()
        .await(WAIT, TimeUnit.SECONDS);
    return new Answer(response.statusCode(), response.bodyAsJsonObject(), (System.nanoTime() - started) / 1_000_000);
  }

  private String accept(TestRelay relay, String body) throws Exception {
    Answer answer = post(relay, body);
    assertEquals(200, answer.status(), answer.toString());
    return answer.body().getString("id");
  }

  /** Sends the webhook again every 100 ms while it is refused 503, as a sender that retries does. */
  private String acceptEventually(TestRelay relay, String body) throws Exception {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT);
    while (true) {
      Answer answer = post(relay, body);
      if (answer.status() == 200) {
        return answer.body().getString("id");
      }
      assertEquals(503, answer.status(), answer.toString());
      assertTrue(answer.millis() < DEADLINE_SECONDS * 1000L + 1000, "answered within the deadline: " + answer);
      assertTrue(System.nanoTime() < giveUp, "still refused after " + WAIT + " s: " + answer);
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  private JsonObject cluster(TestRelay relay) throws Exception {
    return get(relay, "/health").body().getJsonObject("cluster");
  }

  private static String portalKey(FakeBitrixPortal portal) {
    return portal.webhookUrl().replaceAll("^(https?://[^/]+).*$", "$1");
  }
}
