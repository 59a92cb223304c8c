package io.leadrelay.bitrix;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.leadrelay.Addresses;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.NewDelivery;
import io.leadrelay.store.SqliteDeliveryStore;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;
import java.time.Duration;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@Timeout(value = 5, timeUnit = TimeUnit.SECONDS)
class BitrixVerticleTest {

  private static final int MAX_IN_FLIGHT = 2;

  private final Logger log = (Logger) LoggerFactory.getLogger("io.leadrelay.bitrix");
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private FakeBitrixPortal portal;
  private SqliteDeliveryStore store;
  /** Leads a portal may keep waiting in memory in these tests (20,000 in production). */
  private static final int MAX_QUEUED = 3;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    logged.start();
    log.addAppender(logged);
    FakeBitrixPortal.start(vertx).compose(started -> {
      portal = started;
      return SqliteDeliveryStore.open(vertx, dir.resolve("leadrelay.db"), "OFF");
    }).compose(opened -> {
      store = opened;
      // The verticle records every outcome against a stored delivery: store the ones the tests send.
      List<Future<?>> stored = new java.util.ArrayList<>();
      for (int i = 1; i <= 6; i++) {
        Delivery delivery = new Delivery("d-" + i, "main", Instant.now(), "127.0.0.1", new JsonObject());
        stored.add(store.accept(new NewDelivery(delivery, "hash-" + i), Duration.ZERO, Instant.now()));
      }
      Map<String, IntegrationConfig> integrations = Map.of(
          "main", new IntegrationConfig("main", "s3cret", Optional.of(PortalConfig.parse("test", portal.webhookUrl())),
              MappingConfig.defaults()),
          "trial", new IntegrationConfig("trial", "s3cret2", Optional.empty(), MappingConfig.defaults()));
      return Future.all(stored).compose(all -> vertx.deployVerticle(new BitrixVerticle(integrations,
          new BitrixHttpConfig(300, 800, MAX_IN_FLIGHT), BitrixLimits.standard(), TestRelay.FAST, store,
          MAX_QUEUED)));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void detachLog() {
    log.detachAppender(logged);
  }

  private static JsonObject fields(String name) {
    return new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", name)
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-" + name);
  }

  private static void deliver(Vertx vertx, String deliveryId, String integration) {
    LeadCommand command = new LeadCommand(deliveryId, integration, Instant.now(), fields(deliveryId),
        new JsonObject().put("REGISTER_SONET_EVENT", "Y"));
    vertx.eventBus().send(Addresses.LEAD_DELIVER, command.toJson());
  }

  /** Consumes {@code address}; the future completes once the consumer is registered. */
  private static Future<Void> listen(Vertx vertx, String address, Consumer<Message<JsonObject>> handler) {
    return vertx.eventBus().<JsonObject>consumer(address, handler::accept).completion();
  }

  @Test
  void dryRunAnnouncesTheLeadItWouldHaveCreated(Vertx vertx, VertxTestContext ctx) {
    listen(vertx, Addresses.LEAD_CREATED, message -> ctx.verify(() -> {
      LeadCreated created = LeadCreated.fromJson(message.body());
      assertEquals("d-1", created.deliveryId());
      assertEquals("trial", created.integration());
      assertTrue(created.dryRun());
      assertNull(created.leadId());
      assertEquals("dry-run", created.portal());
      assertEquals(fields("d-1"), created.lead());
      assertTrue(portal.calls().isEmpty());
      ctx.completeNow();
    })).onComplete(ctx.succeeding(listening -> deliver(vertx, "d-1", "trial")));
  }

  @Test
  void aCreatedLeadIsAnnouncedWithItsBitrixId(Vertx vertx, VertxTestContext ctx) {
    listen(vertx, Addresses.LEAD_CREATED, message -> ctx.verify(() -> {
      LeadCreated created = LeadCreated.fromJson(message.body());
      assertEquals("d-1", created.deliveryId());
      assertEquals("main", created.integration());
      assertFalse(created.dryRun());
      assertEquals(portal.leadIds().get(0), created.leadId());
      assertEquals(fields("d-1"), portal.leads().get(0));
      assertTrue(created.portal().endsWith("/rest/1/***/"), created.portal());
      assertFalse(message.body().encode().contains(portal.code()));
      ctx.completeNow();
    })).onComplete(ctx.succeeding(listening -> deliver(vertx, "d-1", "main")));
  }

  @Test
  void aRejectedLeadIsAnnouncedAsAFailureWithBitrixReason(Vertx vertx, VertxTestContext ctx) {
    portal.enqueue(Reply.error(400, "", "Required fields are not filled: Last name"));
    listen(vertx, Addresses.LEAD_FAILED, message -> ctx.verify(() -> {
      ErrorEvent event = ErrorEvent.fromJson(message.body());
      assertEquals("bitrix", event.stage());
      assertEquals("d-1", event.deliveryId());
      assertEquals("main", event.integration());
      assertEquals("lead_rejected", event.error());
      assertEquals("LEAD_REJECTED", event.errorClass());
      assertEquals(400, event.httpStatus());
      assertEquals("", event.bitrixCode());
      assertEquals("Bitrix24 rejected this lead (HTTP 400: Required fields are not filled: Last name).",
          event.reason());
      assertTrue(portal.leads().isEmpty());
      ctx.completeNow();
    })).onComplete(ctx.succeeding(listening -> deliver(vertx, "d-1", "main")));
  }

  @Test
  void anUnknownIntegrationIsAnnouncedAsAFailure(Vertx vertx, VertxTestContext ctx) {
    listen(vertx, Addresses.LEAD_FAILED, message -> ctx.verify(() -> {
      ErrorEvent event = ErrorEvent.fromJson(message.body());
      assertEquals("unknown_integration", event.error());
      assertEquals("nosuch", event.integration());
      assertTrue(portal.calls().isEmpty());
      ctx.completeNow();
    })).onComplete(ctx.succeeding(listening -> deliver(vertx, "d-1", "nosuch")));
  }

  @Test
  void noMoreThanTheLimitIsInFlightAndTheRestWaitsItsTurn(Vertx vertx, VertxTestContext ctx) {
    portal.enqueue(Reply.hang(), Reply.hang());
    Checkpoint failed = ctx.checkpoint(2);
    Checkpoint created = ctx.checkpoint(3);
    List<String> outcomes = new CopyOnWriteArrayList<>();
    listen(vertx, Addresses.LEAD_FAILED, message -> ctx.verify(() -> {
      assertEquals("AMBIGUOUS", message.body().getString("errorClass"));
      assertFalse(message.body().encode().contains(portal.code()));
      outcomes.add(message.body().getString("deliveryId"));
      failed.flag();
    }))
        .compose(listening -> listen(vertx, Addresses.LEAD_CREATED, message -> ctx.verify(() -> {
          outcomes.add(message.body().getString("deliveryId"));
          // The waiting leads go out only once a hanging request has given up and freed its slot.
          assertTrue(List.of("d-3", "d-4", "d-5").contains(message.body().getString("deliveryId")));
          assertTrue(List.of("d-1", "d-2").contains(outcomes.get(0)), outcomes.toString());
          created.flag();
        })))
        .compose(listening -> {
          // Two leads apart (each alone at idle: a burst's second lead would wait to fill a batch), then a burst.
          deliver(vertx, "d-1", "main");
          Promise<Void> apart = Promise.promise();
          vertx.setTimer(300, id -> apart.complete());
          return apart.future();
        })
        .compose(later -> {
          for (int i = 2; i <= 6; i++) {
            deliver(vertx, "d-" + i, "main");
          }
          return vertx.eventBus().<JsonObject>request(Addresses.HEALTH_BITRIX, new JsonObject());
        })
        .onComplete(ctx.succeeding(health -> ctx.verify(() -> {
          JsonObject main = health.body().getJsonObject("portals").getJsonObject("main");
          assertEquals(MAX_IN_FLIGHT, main.getInteger("inFlight"));
          assertEquals(3, main.getInteger("queued"));
          assertTrue(portal.calls().size() <= MAX_IN_FLIGHT);
        })));
  }

  @Test
  void beyondTheMemoryCapALeadWaitsInTheStoreInstead(Vertx vertx, VertxTestContext ctx) {
    portal.enqueue(Reply.hang(), Reply.hang());
    for (int i = 1; i <= 6; i++) {
      deliver(vertx, "d-" + i, "main");
    }
    // d-1 and d-2 hang in flight, d-3 to d-5 wait in memory up to the cap; d-6 goes back to the store, due later.
    released(vertx, "d-6", 100).onComplete(ctx.succeeding(d6 -> ctx.verify(() -> {
      assertNull(d6.leaseUntil(), "released to the store");
      assertTrue(d6.nextAttemptAt().isAfter(Instant.now()), "due again once the queue ahead has drained");
      assertTrue(portal.calls().stream().noneMatch(c -> c.body().encode().contains("d-d-6")));
      ctx.completeNow();
    })));
  }

  /** The delivery once its lease is released, checking every 20 ms at most {@code tries} times. */
  private Future<io.leadrelay.store.DeliveryRecord> released(Vertx vertx, String id, int tries) {
    return store.find(id).compose(found -> found.isPresent() && found.get().leaseUntil() == null || tries == 0
        ? Future.succeededFuture(found.orElseThrow())
        : vertx.timer(20).compose(t -> released(vertx, id, tries - 1)));
  }

  @Test
  void healthShowsEachIntegrationWithoutSecrets(Vertx vertx, VertxTestContext ctx) {
    portal.enqueue(Reply.error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"));
    listen(vertx, Addresses.LEAD_FAILED, failure ->
        vertx.eventBus().<JsonObject>request(Addresses.HEALTH_BITRIX, new JsonObject())
            .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
              JsonObject health = reply.body();
              assertEquals("UP", health.getString("status"));
              JsonObject trial = health.getJsonObject("portals").getJsonObject("trial");
              assertEquals("dry-run", trial.getString("mode"));
              JsonObject main = health.getJsonObject("portals").getJsonObject("main");
              assertEquals("webhook", main.getString("mode"));
              assertTrue(main.getString("portal").endsWith("/rest/1/***/"));
              assertEquals(0, main.getInteger("queued"));
              assertEquals(0, main.getInteger("inFlight"));
              assertNull(main.getString("lastSuccessAt"));
              JsonObject lastError = main.getJsonObject("lastError");
              assertEquals("REFUSED", lastError.getString("class"));
              assertEquals("QUERY_LIMIT_EXCEEDED", lastError.getString("code"));
              assertEquals(503, lastError.getInteger("httpStatus"));
              assertFalse(lastError.containsKey("description"), "Bitrix24's text can quote the lead's data");
              assertFalse(health.encode().contains(portal.code()));
              ctx.completeNow();
            }))))
        .onComplete(ctx.succeeding(listening -> deliver(vertx, "d-1", "main")));
  }

  @Test
  void startUpSaysWhereEachIntegrationSendsAndWarnsAboutPlainHttp() {
    List<String> lines = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertTrue(lines.contains("Integration trial: dry-run, leads are logged and not sent to Bitrix24"),
        lines.toString());
    assertTrue(lines.stream().anyMatch(line -> line.startsWith("Integration main: sends leads to http://127.0.0.1:")
        && line.endsWith("/rest/1/***/")), lines.toString());
    assertTrue(logged.list.stream().anyMatch(event -> event.getLevel() == Level.WARN
        && event.getFormattedMessage().contains("plain http")), lines.toString());
    assertTrue(lines.stream().noneMatch(line -> line.contains(portal.code())));
  }
}
