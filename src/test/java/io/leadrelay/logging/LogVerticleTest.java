package io.leadrelay.logging;

import io.leadrelay.Addresses;
import io.leadrelay.bitrix.LeadCreated;
import io.leadrelay.config.ConfigException;
import io.leadrelay.config.LogConfig;
import io.leadrelay.store.Delivery;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class LogVerticleTest {

  private static final DeploymentOptions WORKER = new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final String WEBHOOK_SECRET = "bh-Secret-7f3a9c";
  private static final String PORTAL_CODE = "x1y2z3code";

  @TempDir
  Path tmp;

  @Test
  void writesEachAnnouncementAsOneJsonLineInItsFile(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");
    JsonObject payload = new JsonObject().put("first_name", "Мария 🌷").put("phone", "+7 999 000-11-22");
    Delivery delivery = new Delivery("d-1", "main", Instant.parse("2025-03-01T10:00:00.5Z"), "10.0.0.7", payload);
    JsonObject lead = new JsonObject().put("TITLE", "Заявка из бота 🤖");
    Instant before = Instant.now().minusSeconds(1);

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of()), WORKER)
        .compose(id -> {
          EventBus bus = vertx.eventBus();
          bus.publish(Addresses.WEBHOOK_RECEIVED, delivery.toJson(), LOCAL);
          bus.publish(Addresses.LEAD_CREATED,
              new LeadCreated("d-1", "main", 4711L, false, 120, "https://a.bitrix24.ru/rest/1/***/", null).toJson(),
              LOCAL);
          bus.publish(Addresses.LEAD_CREATED, new LeadCreated("d-2", "main", null, true, 2, null, lead).toJson(),
              LOCAL);
          bus.publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", "d-3", "main", "bitrix_rejected",
              "Bitrix24 refused the lead: поле NAME пустое.", "permanent", 400, "ERROR_CORE", null).toJson(), LOCAL);
          bus.publish(Addresses.REQUEST_REFUSED,
              ErrorEvent.refused("main", "bad_secret", "The secret in the URL is wrong.", 403, "203.0.113.5")
                  .toJson(), LOCAL);
          return vertx.undeploy(id); // stop() drains the queues into the files
        })
        .compose(v -> Future.all(read(vertx, dir, "webhook.log"), read(vertx, dir, "success.log"),
            read(vertx, dir, "error.log")))
        .onComplete(ctx.succeeding(files -> ctx.verify(() -> {
          List<JsonObject> webhook = lines(files.resultAt(0));
          assertEquals(1, webhook.size());
          assertEquals("2025-03-01T10:00:00.500Z", webhook.get(0).getString("time"));
          assertEquals("d-1", webhook.get(0).getString("id"));
          assertEquals("main", webhook.get(0).getString("integration"));
          assertEquals("10.0.0.7", webhook.get(0).getString("remoteAddress"));
          assertEquals(payload, webhook.get(0).getJsonObject("payload"));
          assertTrue(files.<String>resultAt(0).contains("\"Мария 🌷\""), "Cyrillic and emoji are written as is");

          List<JsonObject> success = lines(files.resultAt(1));
          assertEquals(2, success.size());
          JsonObject created = success.get(0);
          assertEquals("d-1", created.getString("id"));
          assertEquals(4711L, created.getLong("leadId"));
          assertEquals(120L, created.getLong("elapsedMs"));
          assertEquals("https://a.bitrix24.ru/rest/1/***/", created.getString("portal"));
          assertFalse(created.containsKey("dryRun"));
          assertTimeSince(before, created);
          JsonObject dryRun = success.get(1);
          assertEquals("d-2", dryRun.getString("id"));
          assertTrue(dryRun.containsKey("leadId"));
          assertNull(dryRun.getValue("leadId"));
          assertEquals(true, dryRun.getBoolean("dryRun"));
          assertEquals(lead, dryRun.getJsonObject("lead"));

          List<JsonObject> errors = lines(files.resultAt(2));
          assertEquals(2, errors.size());
          assertEquals(List.of("time", "stage", "deliveryId", "integration", "error", "reason", "errorClass",
              "httpStatus", "bitrixCode"), List.copyOf(errors.get(0).fieldNames()));
          assertEquals("Bitrix24 refused the lead: поле NAME пустое.", errors.get(0).getString("reason"));
          assertTimeSince(before, errors.get(0));
          assertEquals("http", errors.get(1).getString("stage"));
          assertEquals("bad_secret", errors.get(1).getString("error"));
          assertEquals(403, errors.get(1).getInteger("httpStatus"));
          assertEquals("203.0.113.5", errors.get(1).getString("remoteAddress"));
          ctx.completeNow();
        })));
  }

  @Test
  void neverWritesASecretToAnyFile(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");
    // A producer that forgot to mask: the secret is in the payload, a key, the reason and the portal.
    JsonObject payload = new JsonObject()
        .put("comment", "my url is /webhook/main/" + WEBHOOK_SECRET)
        .put(WEBHOOK_SECRET, "as a key")
        .put("nested", new JsonObject().put("url", "https://a.bitrix24.ru/rest/1/" + PORTAL_CODE + "/"));
    Delivery delivery = new Delivery("d-1", "main", Instant.now(), "10.0.0.7", payload);

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of(WEBHOOK_SECRET, PORTAL_CODE, "")), WORKER)
        .compose(id -> {
          EventBus bus = vertx.eventBus();
          bus.publish(Addresses.WEBHOOK_RECEIVED, delivery.toJson(), LOCAL);
          bus.publish(Addresses.LEAD_CREATED, new LeadCreated("d-1", "main", 1L, false, 5,
              "https://a.bitrix24.ru/rest/1/" + PORTAL_CODE + "/", null).toJson(), LOCAL);
          bus.publish(Addresses.LEAD_FAILED, new ErrorEvent("bitrix", "d-1", "main", "unauthorized",
              "Bitrix24 refused https://a.bitrix24.ru/rest/1/" + PORTAL_CODE + "/crm.lead.add.json", "auth", 401,
              "INVALID_CREDENTIALS", null).toJson(), LOCAL);
          bus.publish(Addresses.REQUEST_REFUSED, ErrorEvent.refused("main", "bad_secret",
              "Wrong secret " + WEBHOOK_SECRET + ".", 403, "203.0.113.5").toJson(), LOCAL);
          return vertx.undeploy(id);
        })
        .compose(v -> Future.all(read(vertx, dir, "webhook.log"), read(vertx, dir, "success.log"),
            read(vertx, dir, "error.log")))
        .onComplete(ctx.succeeding(files -> ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            String text = files.resultAt(i);
            assertFalse(text.contains(WEBHOOK_SECRET), "webhook secret in " + i);
            assertFalse(text.contains(PORTAL_CODE), "portal code in " + i);
            assertTrue(text.contains("***"), "masked in " + i);
            lines(text); // still valid JSON lines
          }
          JsonObject webhook = lines(files.resultAt(0)).get(0).getJsonObject("payload");
          assertEquals("my url is /webhook/main/***", webhook.getString("comment"));
          assertEquals("as a key", webhook.getString("***"));
          assertEquals("https://a.bitrix24.ru/rest/1/***/", lines(files.resultAt(1)).get(0).getString("portal"));
          assertEquals("Wrong secret ***.", lines(files.resultAt(2)).get(1).getString("reason"));
          ctx.completeNow();
        })));
  }

  @Test
  void keepsEveryLineOfALongBurst(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");
    int count = 5_000;
    JsonObject payload = new JsonObject().put("first_name", "Пётр").put("text", "x".repeat(200));

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of()), WORKER)
        .compose(id -> {
          for (int i = 0; i < count; i++) {
            vertx.eventBus().publish(Addresses.WEBHOOK_RECEIVED,
                new Delivery("d-" + i, "main", Instant.now(), "10.0.0.7", payload).toJson(), LOCAL);
          }
          return vertx.undeploy(id);
        })
        .compose(v -> read(vertx, dir, "webhook.log"))
        .onComplete(ctx.succeeding(text -> ctx.verify(() -> {
          List<JsonObject> lines = lines(text);
          assertEquals(count, lines.size());
          assertEquals(IntStream.range(0, count).mapToObj(i -> "d-" + i).toList(),
              lines.stream().map(line -> line.getString("id")).toList());
          ctx.completeNow();
        })));
  }

  @Test
  void skipsAMalformedAnnouncementAndKeepsLogging(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");
    Delivery good = new Delivery("d-ok", "main", Instant.now(), "10.0.0.7", new JsonObject());

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of()), WORKER)
        .compose(id -> {
          vertx.eventBus().publish(Addresses.WEBHOOK_RECEIVED, new JsonObject().put("id", "no-time"), LOCAL);
          vertx.eventBus().publish(Addresses.WEBHOOK_RECEIVED, good.toJson(), LOCAL);
          return vertx.undeploy(id);
        })
        .compose(v -> read(vertx, dir, "webhook.log"))
        .onComplete(ctx.succeeding(text -> ctx.verify(() -> {
          assertEquals(List.of("d-ok"), lines(text).stream().map(line -> line.getString("id")).toList());
          ctx.completeNow();
        })));
  }

  @Test
  void answersHealthWithTheAbsoluteLogDirectory(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of()), WORKER)
        .compose(id -> vertx.eventBus().<JsonObject>request(Addresses.HEALTH_LOGS, new JsonObject()))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertEquals(new JsonObject().put("status", "UP").put("dir", dir.toAbsolutePath().toString())
              .put("droppedLines", 0), reply.body());
          ctx.completeNow();
        })));
  }

  @Test
  void reportsDegradedWithTheCountWhileLinesAreDroppedAndUpAgainOnceTheyAreWritten(Vertx vertx,
                                                                                  VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");
    FillingDisk disk = new FillingDisk(0);
    JsonObject refused = ErrorEvent.refused(null, "not_found", "Nothing here.", 404, "127.0.0.1").toJson();

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of(), disk), WORKER)
        .compose(id -> {
          vertx.eventBus().publish(Addresses.REQUEST_REFUSED, refused, LOCAL);
          vertx.eventBus().publish(Addresses.REQUEST_REFUSED, refused, LOCAL);
          return healthWhen(vertx, health -> health.getLong("droppedLines") == 2);
        })
        .compose(full -> {
          ctx.verify(() -> assertEquals(new JsonObject().put("status", "DEGRADED")
              .put("dir", dir.toAbsolutePath().toString()).put("droppedLines", 2)
              .put("reason", "log lines are being dropped (IOException)"), full));
          disk.free(1 << 20);
          vertx.eventBus().publish(Addresses.REQUEST_REFUSED, refused, LOCAL);
          return healthWhen(vertx, health -> "UP".equals(health.getString("status")));
        })
        .onComplete(ctx.succeeding(freed -> ctx.verify(() -> {
          assertEquals(new JsonObject().put("status", "UP").put("dir", dir.toAbsolutePath().toString())
              .put("droppedLines", 2), freed);
          ctx.completeNow();
        })));
  }

  /** Asks the log health until it matches: lines are written on the async queue's own thread. */
  private static Future<JsonObject> healthWhen(Vertx vertx, java.util.function.Predicate<JsonObject> condition) {
    return vertx.eventBus().<JsonObject>request(Addresses.HEALTH_LOGS, new JsonObject())
        .compose(reply -> condition.test(reply.body()) ? Future.succeededFuture(reply.body())
            : vertx.timer(10).compose(v -> healthWhen(vertx, condition)));
  }

  @Test
  void reportsDownWhenTheLogDirectoryIsGone(Vertx vertx, VertxTestContext ctx) {
    Path dir = tmp.resolve("logs");

    vertx.deployVerticle(new LogVerticle(config(dir), Set.of()), WORKER)
        .compose(id -> vertx.executeBlocking(() -> {
          deleteTree(dir);
          return id;
        }))
        .compose(id -> vertx.eventBus().<JsonObject>request(Addresses.HEALTH_LOGS, new JsonObject()))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertEquals("DOWN", reply.body().getString("status"));
          assertEquals(dir.toAbsolutePath().toString(), reply.body().getString("dir"));
          assertEquals("the log directory " + dir.toAbsolutePath() + " does not exist",
              reply.body().getString("reason"));
          ctx.completeNow();
        })));
  }

  @Test
  void failsToDeployWhenALogFileCannotBeOpened(Vertx vertx, VertxTestContext ctx) throws IOException {
    Files.createDirectories(tmp.resolve("error.log")); // a directory where the file should be

    vertx.deployVerticle(new LogVerticle(config(tmp), Set.of()), WORKER)
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertInstanceOf(IllegalStateException.class, e);
          assertTrue(e.getMessage().startsWith("Cannot write the logs in " + tmp.toAbsolutePath() + ": "),
              e.getMessage());
          assertTrue(e.getMessage().contains("error.log"), e.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  void failsToDeployWithABadSize(Vertx vertx, VertxTestContext ctx) {
    vertx.deployVerticle(new LogVerticle(new LogConfig(tmp, "10 parsecs", 7, "1GB"), Set.of()), WORKER)
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertInstanceOf(ConfigException.class, e);
          assertEquals("logs.maxFileSize must be a size such as \"50MB\" (a number with KB, MB or GB), "
              + "not \"10 parsecs\".", e.getMessage());
          ctx.completeNow();
        })));
  }

  private static LogConfig config(Path dir) {
    return new LogConfig(dir, "10MB", 7, "100MB");
  }

  private static Future<String> read(Vertx vertx, Path dir, String file) {
    return vertx.fileSystem().readFile(dir.resolve(file).toString())
        .map(buffer -> buffer.toString(StandardCharsets.UTF_8));
  }

  /** Parses a JSON-lines file, checking that every line ends with a newline. */
  private static List<JsonObject> lines(String text) {
    assertTrue(text.isEmpty() || text.endsWith("\n"), "each line ends with a newline");
    return text.lines().map(JsonObject::new).toList();
  }

  private static void assertTimeSince(Instant before, JsonObject line) {
    Instant time = Instant.parse(line.getString("time"));
    assertTrue(!time.isBefore(before) && !time.isAfter(Instant.now()), "time is now: " + time);
    assertTrue(line.getString("time").endsWith("Z"), "time is UTC");
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
