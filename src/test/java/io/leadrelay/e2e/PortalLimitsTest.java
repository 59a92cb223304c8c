package io.leadrelay.e2e;

import io.leadrelay.config.BitrixLimits;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay against a portal that enforces Bitrix24's limits: the request bucket and the operating-time window.
 * What must hold: every lead exactly once, almost no refusals, and a blocked method waits and resumes.
 */
@ExtendWith(VertxExtension.class)
class PortalLimitsTest {

  @TempDir
  Path dir;

  /** Posts n distinct webhooks, at most 50 at a time, and yields their delivery ids. */
  private static Future<List<String>> post(TestRelay relay, int from, int n) {
    Future<List<String>> chain = Future.succeededFuture(new ArrayList<>());
    for (int start = from; start < from + n; start += 50) {
      int first = start;
      int last = Math.min(from + n, start + 50);
      chain = chain.compose(ids -> {
        List<Future<String>> wave = new ArrayList<>();
        for (int i = first; i < last; i++) {
          wave.add(relay.postJson("{\"name\":\"Лид " + i + "\",\"phone\":\"+7999" + i + "\"}")
              .map(response -> response.bodyAsJsonObject().getString("id")));
        }
        return Future.all(wave).map(all -> {
          ids.addAll(all.list());
          return ids;
        });
      });
    }
    return chain;
  }


  @Test
  void aBurstOf2000LeadsArrivesExactlyOnceWithAlmostNoRefusals(Vertx vertx, VertxTestContext ctx) {
    // A small bucket, so that the burst is spent quickly and the drain rate paces the rest.
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.limits(10, 5, 10_000, 600_000, 0.001);
      return TestRelay.start(vertx, dir, portal.webhookUrl(), new BitrixLimits(10, 5, 10_000, 50))
          .compose(relay -> post(relay, 0, 2000)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .map(v -> {
                ctx.verify(() -> {
                  long requests = portal.calls().size();
                  long batches = portal.calls().stream().filter(c -> "batch".equals(c.method())).count();
                  assertTrue(batches > 0, "leads waiting together went in batches");
                  assertTrue(requests < 2000 / 10, "far fewer requests than leads: " + requests);
                  assertTrue(portal.refusals() <= Math.max(1, requests / 100),
                      "almost no refusals: " + portal.refusals() + " of " + requests + " requests");
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aMethodBlockedForOperatingTimeWaitsUntilItsWindowFreesAndResumes(Vertx vertx, VertxTestContext ctx) {
    // The portal blocks crm.lead.add after 0.1 s of operating time (50 leads) within a 2 s window; the relay believes the
    // cloud's 480 s, so it runs into the block, must hold the method until operating_reset_at, then resume.
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.limits(1000, 1000, 0.1, 2000, 0.002);
      return TestRelay.start(vertx, dir, portal.webhookUrl(), new BitrixLimits(1000, 1000, 480, 50))
          .compose(relay -> post(relay, 0, 60)
              .compose(ids -> relay.awaitExactlyOneLeadEach(portal, ids))
              .map(v -> {
                ctx.verify(() -> {
                  assertTrue(portal.operatingTimeBlocks() >= 1, "the block was reached");
                  List<JsonObject> blocked = relay.lines("error").stream()
                      .filter(l -> "OPERATION_TIME_LIMIT".equals(l.getString("bitrixCode"))).toList();
                  assertTrue(!blocked.isEmpty(), "the block is in error.log");
                  assertTrue(blocked.stream().allMatch(l -> "REFUSED".equals(l.getString("errorClass"))
                      && l.getString("next").startsWith("retry at")), blocked.toString());
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aRenamedPortalIsFollowedAndLeadsGoToItsNewAddress(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(old -> FakeBitrixPortal.start(vertx, 0, old.code()).compose(renamed -> {
      old.enqueue(FakeBitrixPortal.Reply.redirect(renamed.webhookUrl() + "crm.lead.add.json"));
      return TestRelay.start(vertx, dir, old.webhookUrl())
          .compose(relay -> relay.postJson("{\"name\":\"Первый\"}")
              .compose(r -> relay.poll(() -> renamed.leads().isEmpty() ? null : renamed.leads()))
              .compose(r -> relay.postJson("{\"name\":\"Второй\"}"))
              .compose(r -> relay.poll(() -> renamed.leads().size() < 2 ? null : renamed.leads()))
              .map(leads -> {
                ctx.verify(() -> {
                  assertEquals(1, old.calls().size(), "the old address was asked once, then remembered");
                  assertTrue(old.leads().isEmpty());
                  assertEquals(List.of("Первый", "Второй"), leads.stream().map(l -> l.getString("NAME")).toList());
                });
                return null;
              }));
    })).onComplete(ctx.succeedingThenComplete());
  }
}
