package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeCrm;
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
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A portal in "simple CRM" mode (no leads): detected, shown in /health, and its leads become deals. */
@ExtendWith(VertxExtension.class)
class CrmModeTest {

  @TempDir
  Path dir;

  @Test
  void aSimpleModePortalIsShownInHealthAndEveryLeadIsConvertedBecauseItHasAName(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.crm().mode(2);
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> relay.pollAsync(() -> portalHealth(relay, h -> "simple".equals(h.getString("crmMode"))))
              // No name in the payload at all: the relay still sends one, so Bitrix24 converts this lead too.
              .compose(simple -> Future.all(relay.postJson("{\"name\":\"Анна\",\"phone\":\"89991234567\"}"),
                  relay.postJson("{\"bothelp_user_id\":\"4242\",\"Город\":\"Казань\"}")))
              .compose(sent -> relay.poll(() -> portal.leads().size() == 2 ? portal.leads() : null))
              .map(leads -> {
                ctx.verify(() -> {
                  assertTrue(leads.stream().allMatch(lead -> "CONVERTED".equals(lead.getString("STATUS_ID"))),
                      leads.toString());
                  assertEquals(List.of("BotHelp 4242", "Анна"), leads.stream().map(l -> l.getString("NAME"))
                      .sorted().toList());
                  List<FakeCrm.Entity> deals = portal.crm().deals();
                  assertEquals(2, deals.size());
                  assertTrue(deals.stream().allMatch(deal -> deal.fields().getValue("LEAD_ID") != null));
                  assertTrue(portal.crm().modeQuestions() >= 1, "asked at start (then hourly)");
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aClassicPortalIsShownAsClassic(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir)
        .compose(relay -> relay.pollAsync(() -> portalHealth(relay, h -> "classic".equals(h.getString("crmMode")))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aPortalThatCannotTellItsModeIsUnknownAndStillGetsItsLeads(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.crm().modeFails(true);
      return TestRelay.start(vertx, dir, portal.webhookUrl())
          .compose(relay -> relay.pollAsync(() -> portal.crm().modeQuestions() > 0
                  ? portalHealth(relay, h -> true) : Future.succeededFuture(null))
              .compose(health -> {
                ctx.verify(() -> {
                  assertEquals("unknown", health.getString("crmMode"));
                  assertNull(health.getValue("lastError"), "a failed mode question is no delivery error");
                });
                return relay.postJson("{\"name\":\"Иван\"}");
              })
              .compose(sent -> relay.poll(() -> portal.leads().isEmpty() ? null : portal.leads().get(0)))
              .<Void>map(lead -> {
                ctx.verify(() -> assertEquals("Иван", lead.getString("NAME")));
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** The default integration's entry in /health when it matches {@code wanted}, else null (poll again). */
  private static Future<JsonObject> portalHealth(TestRelay relay, Predicate<JsonObject> wanted) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send().map(response -> {
      JsonObject entry = response.bodyAsJsonObject().getJsonObject("parts").getJsonObject("bitrix")
          .getJsonObject("portals").getJsonObject("default");
      return wanted.test(entry) ? entry : null;
    });
  }
}
