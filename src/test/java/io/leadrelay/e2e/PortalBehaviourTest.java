package io.leadrelay.e2e;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.RedirectHosts;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay against portals that misbehave the way real ones (or what stands in front of them) do: portal-wide
 * errors, answers that stall, trickle or never end, a bucket of 1, and redirects to other hosts. What must hold:
 * every lead exactly once, nothing sent where it was not allowed, no lead killed for the portal's fault.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PortalBehaviourTest {

  @TempDir
  Path dir;

  /** Posts the webhooks one after the other and yields their delivery ids. */
  private static Future<List<String>> post(TestRelay relay, String name, int n) {
    Future<List<String>> chain = Future.succeededFuture(new ArrayList<>());
    for (int i = 0; i < n; i++) {
      String body = "{\"name\":\"" + name + " " + i + "\"}";
      chain = chain.compose(ids -> relay.postJson(body).map(response -> {
        ids.add(response.bodyAsJsonObject().getString("id"));
        return ids;
      }));
    }
    return chain;
  }

  private static Future<JsonObject> health(TestRelay relay) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send().map(response -> {
      if (response.statusCode() != 200 && response.statusCode() != 503) {
        throw new AssertionError("/health answered " + response.statusCode());
      }
      return response.bodyAsJsonObject();
    });
  }

  private static String portalState(JsonObject health) {
    return health.getJsonObject("parts").getJsonObject("bitrix").getJsonObject("portals").getJsonObject("default")
        .getString("state");
  }

  // --- item 4: what the portal means ---

  @Test
  void portalWideErrorsPauseThePortalAndAFailureWhileRunningIsLookedUpNoLeadDies(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      JsonObject denied = io.leadrelay.testing.Resources.json("bitrix/answers/access-denied.json");
      JsonObject https = io.leadrelay.testing.Resources.json("bitrix/answers/https-required.json");
      JsonObject sql = io.leadrelay.testing.Resources.json("bitrix/answers/sql-query-error.json");
      portal.enqueue(recorded(https), recorded(denied), recorded(denied), recorded(denied), recorded(sql));
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> post(relay, "Лид", 5)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 5))
              .compose(v -> relay.awaitLines("error", lines -> lines.stream()
                  .anyMatch(l -> "AMBIGUOUS".equals(l.getString("errorClass")))))
              .map(errors -> {
                ctx.verify(() -> {
                  assertTrue(errors.stream().noneMatch(l -> String.valueOf(l.getString("next")).startsWith("dead")),
                      "no lead dies for the portal's fault: " + errors);
                  assertTrue(errors.stream().anyMatch(l -> "PORTAL_FAILURE".equals(l.getString("errorClass"))
                      && l.getString("reason").startsWith("Portal paused")), errors.toString());
                  assertTrue(errors.stream().noneMatch(l -> "LEAD_REJECTED".equals(l.getString("errorClass"))),
                      errors.toString());
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void accessDeniedInsideABatchPausesThePortalInsteadOfKillingLeads(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      Reply denied = recorded(io.leadrelay.testing.Resources.json("bitrix/answers/access-denied.json"));
      // The first commands to reach the portal (alone or inside a batch) are refused for the webhook's rights.
      portal.enqueue(denied, denied, denied);
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> Future.all(java.util.stream.IntStream.range(0, 30)
                  .mapToObj(i -> relay.postJson("{\"name\":\"Пачка " + i + "\"}")
                      .map(response -> response.bodyAsJsonObject().getString("id"))).toList())
              .compose(all -> relay.awaitExactlyOneLeadEach(portal, all.<String>list()))
              .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 30))
              .map(v -> {
                ctx.verify(() -> {
                  assertTrue(portal.calls().stream().anyMatch(c -> "batch".equals(c.method())), "leads went in batches");
                  List<JsonObject> errors = relay.lines("error");
                  assertTrue(errors.stream().anyMatch(l -> "PORTAL_FAILURE".equals(l.getString("errorClass"))),
                      errors.toString());
                  assertTrue(errors.stream().noneMatch(l -> String.valueOf(l.getString("next")).startsWith("dead")),
                      "no lead dies for the portal's rights: " + errors);
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static Reply recorded(JsonObject answer) {
    JsonObject body = answer.getJsonObject("body");
    return Reply.error(answer.getInteger("status"), body.getString("error"), body.getString("error_description"));
  }

  @Test
  void theBatchCallsOwnOperatingTimeHoldsTheQueueWhenItBinds(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // crm.lead.add's own time stays tiny; the batch call's time is near the 480 s limit until resetAt.
      java.time.Instant resetAt = java.time.Instant.now().plusSeconds(3);
      portal.batchOperating(470, resetAt);
      java.util.Map<String, java.time.Instant> createdAt = new java.util.concurrent.ConcurrentHashMap<>();
      portal.onLead(fields -> createdAt.put(fields.getString("ORIGIN_ID"), java.time.Instant.now()));
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> Future.all(java.util.stream.IntStream.range(0, 30)
                  .mapToObj(i -> relay.postJson("{\"name\":\"Волна " + i + "\"}")).toList())
              .compose(all -> relay.poll(() -> portal.calls().stream().anyMatch(c -> "batch".equals(c.method()))
                  ? true : null))
              .compose(batched -> post(relay, "После", 1))
              .compose(later -> relay.poll(() -> createdAt.containsKey(later.get(0)) ? later : null))
              .map(later -> {
                ctx.verify(() -> assertTrue(!createdAt.get(later.get(0)).isBefore(resetAt.minusMillis(1000)),
                    "held until the batch call's window frees at " + resetAt + ", created at "
                        + createdAt.get(later.get(0))));
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  // --- item 5: bounded calls ---

  @Test
  void answersThatStallOrTrickleDoNotFreezeDeliveryAndLeadsArriveExactlyOnce(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // Both request slots (maxConcurrentPerPortal 2) get an answer that starts and never ends.
      portal.enqueue(Reply.createThenStall(), Reply.createThenTrickle());
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> post(relay, "Медленный", 6)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 6))
              .compose(v -> health(relay))
              .map(health -> {
                ctx.verify(() -> {
                  assertEquals("active", portalState(health), health.encode());
                  assertTrue(relay.lines("error").stream().anyMatch(l -> "AMBIGUOUS".equals(l.getString("errorClass"))
                      && l.getString("reason").contains("no complete answer from the portal within 1000 ms")),
                      relay.lines("error").toString());
                  assertTrue(relay.lines("success").stream().anyMatch(l -> l.getBoolean("found", false)),
                      "the stalled leads were found by the look-up, not created again");
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aHugeAnswerIsCutOffWhileTheRelayKeepsAnsweringAndDelivering(Vertx vertx, VertxTestContext ctx) {
    int cap = 256 * 1024;
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // An endless answer: buffered whole, it would exhaust any heap.
      portal.enqueue(Reply.createThenHuge());
      BitrixHttpConfig bitrix = new BitrixHttpConfig(500, 20_000, 2, cap, RedirectHosts.NONE);
      return TestRelay.start(vertx, dir, portal.webhookUrl(), bitrix, TestRelay.LIMITS)
          .compose(relay -> post(relay, "Огромный", 3)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 3))
              .compose(v -> health(relay))
              .map(health -> {
                ctx.verify(() -> {
                  assertEquals("active", portalState(health), health.encode());
                  assertTrue(portal.hugeBytesSent() < 64L * 1024 * 1024,
                      "cut off near the cap, not read to the end: " + portal.hugeBytesSent() + " bytes sent");
                  assertTrue(relay.lines("error").stream().anyMatch(l -> l.getString("reason")
                      .contains("larger than the 262144-byte cap (BITRIX_MAX_ANSWER_BYTES)")),
                      relay.lines("error").toString());
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aBucketOfOneDeliversAfterAnAmbiguousFailure(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // The first lead is created and its answer lost, the second gets a 500: both must be looked up, which takes
      // two requests (look-up, then add) from a bucket that holds one.
      portal.enqueue(Reply.createThenDrop(), Reply.html(500));
      return TestRelay.start(vertx, dir, portal.webhookUrl(), TestRelay.BITRIX, new BitrixLimits(1, 20, 480, 50))
          .compose(relay -> post(relay, "Ведро", 3)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .compose(v -> relay.awaitLines("success", lines -> lines.size() >= 3))
              .map(v -> {
                ctx.verify(() -> assertTrue(portal.calls().stream().anyMatch(c -> "crm.lead.list".equals(c.method())),
                    "the uncertain leads were looked up"));
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  // --- item 6: redirects ---

  @Test
  void aRedirectToAnotherHostPausesThePortalAndSendsNothingThere(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> FakeBitrixPortal.start(vertx, "127.0.0.2", 0, portal.code())
        .compose(other -> {
          portal.enqueue(Reply.redirect(other.webhookUrl() + "crm.lead.add.json"));
          return TestRelay.start(vertx, dir, portal.webhookUrl())
              .compose(relay -> post(relay, "Перенаправлен", 1)
                  .compose(ids -> relay.awaitLines("error", lines -> !lines.isEmpty())
                      .compose(errors -> relay.pollAsync(() -> health(relay)
                          .map(health -> "paused".equals(portalState(health)) ? health : null)))
                      .compose(health -> relay.relay().store().find(ids.get(0)))
                      .map(record -> {
                        ctx.verify(() -> {
                          JsonObject line = relay.lines("error").get(0);
                          assertEquals("PORTAL_FAILURE", line.getString("errorClass"));
                          assertTrue(line.getString("reason").contains("BITRIX_REDIRECT_HOSTS=127.0.0.2"),
                              line.encode());
                          assertTrue(other.calls().isEmpty(), "no lead went to the other host");
                          assertTrue(other.leads().isEmpty());
                          assertTrue(record.orElseThrow().state() != DeliveryState.DEAD, "the lead waits");
                        });
                        return null;
                      })));
        })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aRedirectToAnAllowedHostIsFollowedRememberedAndLeadsArriveOnce(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> FakeBitrixPortal.start(vertx, "127.0.0.2", 0, portal.code())
        .compose(other -> {
          portal.enqueue(Reply.redirect(other.webhookUrl() + "crm.lead.add.json"));
          BitrixHttpConfig bitrix = new BitrixHttpConfig(500, 1_000, 2, BitrixHttpConfig.DEFAULT_MAX_ANSWER_BYTES,
              RedirectHosts.parse("BITRIX_REDIRECT_HOSTS", List.of("127.0.0.2")));
          return TestRelay.start(vertx, dir, portal.webhookUrl(), bitrix, TestRelay.LIMITS)
              .compose(relay -> post(relay, "Переехал", 1)
                  .compose(first -> relay.awaitExactlyOneLeadEach(other, first)
                      .compose(v -> post(relay, "Следом", 2))
                      .compose(next -> {
                        List<String> all = new ArrayList<>(first);
                        all.addAll(next);
                        return relay.awaitExactlyOneLeadEach(other, all);
                      }))
                  .map(v -> {
                    ctx.verify(() -> {
                      assertEquals(1, portal.calls().size(), "the old address was asked once, then remembered");
                      assertTrue(portal.leads().isEmpty());
                    });
                    return null;
                  }));
        })).onComplete(ctx.succeedingThenComplete());
  }
}
