package io.leadrelay.e2e;

import io.leadrelay.config.BitrixLimits;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.Resources;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Values a subscriber types that Bitrix24 would refuse or rewrite, end to end against a fake portal that refuses and
 * rewrites them as the real one does: the lead is still created, once, with the value kept.
 */
@ExtendWith(VertxExtension.class)
class LeadValuesTest {

  @TempDir
  Path dir;

  private static MappingConfig mapping(Map<String, String> fieldMap) {
    return new MappingConfig(MappingConfig.DEFAULT_TITLE, "WORK", "WORK", 1, "WEB", null, null, null, true,
        MappingConfig.DEFAULT_SYSTEM_FIELDS, fieldMap, "leadrelay");
  }

  /** crm.lead.add calls the relay made (they carry ORIGIN_ID). */
  private static long adds(FakeBitrixPortal portal) {
    return portal.calls().stream().filter(call -> "crm.lead.add".equals(call.method())
        && call.body().getJsonObject("fields", new JsonObject()).containsKey("ORIGIN_ID")).count();
  }

  @Test
  void valuesThePortalRefusesAreKeptInCommentsAndTheLeadIsCreated(Vertx vertx, VertxTestContext ctx) {
    String longPhone = "+7 999 123-45-67, звонить после 18:00 " + "и ".repeat(120);
    JsonObject webhook = new JsonObject().put("name", "Иван").put("email", "нет, пишите в телеграм")
        .put("phone", longPhone).put("budget", "9000 руб").put("Город", "Казань");
    FakeBitrixPortal.start(vertx).compose(portal -> {
      WebClient client = WebClient.create(vertx);
      // The fake refuses such values exactly like a real portal: the whole lead, HTTP 400, empty code.
      JsonObject raw = new JsonObject().put("fields", new JsonObject().put("TITLE", "t")
          .put("EMAIL", new JsonArray().add(new JsonObject().put("VALUE", "нет, пишите в телеграм"))));
      return client.postAbs(portal.webhookUrl() + "crm.lead.add.json").sendJsonObject(raw)
          .compose(refused -> {
            ctx.verify(() -> {
              assertEquals(400, refused.statusCode());
              assertEquals(Resources.json("bitrix/lead-add-email-invalid.json"), refused.bodyAsJsonObject());
            });
            return TestRelay.start(vertx, dir, portal.webhookUrl(), mapping(Map.of("budget", "OPPORTUNITY")));
          })
          .compose(relay -> relay.postJson(webhook.encode())
              .compose(answer -> relay.awaitExactlyOneLeadEach(portal,
                  List.of(answer.bodyAsJsonObject().getString("id")))))
          .map(done -> {
            ctx.verify(() -> {
              JsonObject lead = portal.leads().get(0);
              assertEquals("Иван", lead.getString("NAME"));
              assertFalse(lead.containsKey("EMAIL"));
              assertFalse(lead.containsKey("PHONE"));
              assertFalse(lead.containsKey("OPPORTUNITY"));
              assertEquals("Город: Казань\n"
                  + "Телефон (не сохранено в поле, длиннее 250 символов): " + longPhone.trim() + "\n"
                  + "E-mail (не сохранено в поле, неверный формат): нет, пишите в телеграм\n"
                  + "Сумма (не сохранено в поле, не число): 9000 руб", lead.getString("COMMENTS"));
              assertEquals(1, adds(portal), "created at the first attempt");
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aNormalisedAmountIsSavedInItsField(Vertx vertx, VertxTestContext ctx) {
    onlyLead(vertx, "budget", "{\"name\":\"Анна\",\"budget\":\"9 000,50\"}")
        .onComplete(ctx.succeeding(lead -> ctx.verify(() -> {
          assertEquals("9000.50", lead.getString("OPPORTUNITY"), lead.encode());
          ctx.completeNow();
        })));
  }

  @Test
  void aDecimalReachesThePortalWithTheDigitsTheWebhookSent(Vertx vertx, VertxTestContext ctx) {
    onlyLead(vertx, "Бюджет", "{\"name\":\"Анна\",\"Бюджет\":9000.00}")
        .onComplete(ctx.succeeding(lead -> ctx.verify(() -> {
          // Neither 9000.0 (a double on the way) nor 9000 (a stripped scale).
          assertEquals("9000.00", String.valueOf(lead.getValue("OPPORTUNITY")), lead.encode());
          ctx.completeNow();
        })));
  }

  /** The one lead the portal got for this webhook, with {@code amountKey} mapped to OPPORTUNITY. */
  private Future<JsonObject> onlyLead(Vertx vertx, String amountKey, String webhook) {
    return FakeBitrixPortal.start(vertx).compose(portal ->
        TestRelay.start(vertx, dir, portal.webhookUrl(), mapping(Map.of(amountKey, "OPPORTUNITY")))
            .compose(relay -> relay.postJson(webhook)
                .compose(answer -> relay.awaitExactlyOneLeadEach(portal,
                    List.of(answer.bodyAsJsonObject().getString("id")))))
            .map(done -> portal.leads().get(0)));
  }

  @Test
  void aFieldThePortalRefusesForItsOwnReasonsIsRetriedOnceWithoutTheCheckedFields(Vertx vertx,
                                                                                 VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      // A custom field the administrator made a number: the relay cannot know that without crm.lead.fields.
      portal.numberField("UF_CRM_BUDGET");
      return TestRelay.start(vertx, dir, portal.webhookUrl(), mapping(Map.of("budget", "UF_CRM_BUDGET")))
          .compose(relay -> relay.postJson("{\"name\":\"Пётр\",\"phone\":\"+79990001122\",\"budget\":\"много\","
                  + "\"utm_source\":\"vk\"}")
              .compose(answer -> relay.awaitExactlyOneLeadEach(portal,
                  List.of(answer.bodyAsJsonObject().getString("id"))))
              .compose(done -> relay.awaitLines("success", lines -> !lines.isEmpty())))
          .map(success -> {
            ctx.verify(() -> {
              assertEquals(2, adds(portal), "refused once, then created");
              JsonObject lead = portal.leads().get(0);
              assertEquals("Пётр", lead.getString("NAME"));
              assertEquals("vk", lead.getString("UTM_SOURCE"), "plain text fields stay in place");
              assertFalse(lead.containsKey("UF_CRM_BUDGET"));
              assertFalse(lead.containsKey("PHONE"));
              assertEquals("Телефон (не сохранено в поле, Bitrix24 не принял лид с этим полем): +79990001122\n"
                  + "UF_CRM_BUDGET (не сохранено в поле, Bitrix24 не принял лид с этим полем): много",
                  lead.getString("COMMENTS"));
              assertEquals(1, success.size());
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void theFakePortalRewritesResultReferencesInBatchValuesAsBitrix24Does(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> WebClient.create(vertx)
        .postAbs(portal.webhookUrl() + "batch.json")
        .sendJsonObject(new JsonObject().put("halt", 0).put("cmd", new JsonObject()
            .put("a", "crm.lead.add?fields%5BNAME%5D=first")
            .put("b", "crm.lead.add?fields%5BNAME%5D=%24result%5Ba%5D")
            .put("c", "crm.lead.add?fields%5BNAME%5D=%24TOTAL%5Bx%5D")))
        .map(answer -> {
          ctx.verify(() -> assertEquals(List.of("first", "1", ""),
              portal.leads().stream().map(lead -> lead.getString("NAME")).toList()));
          return null;
        })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aNameLikeAResultReferenceArrivesUnchangedWhileOthersGoInBatches(Vertx vertx, VertxTestContext ctx) {
    List<String> names = List.of("Лид 1", "$result[1]", "Лид 2", "Лид 3", "$TOTAL[x] руб", "Лид 4", "Лид 5");
    FakeBitrixPortal.start(vertx).compose(portal ->
        // A bucket of 2 at 2 per second: after the first requests the leads wait together and go in batches.
        TestRelay.start(vertx, dir, portal.webhookUrl(), new BitrixLimits(2, 2, 480, 50))
            .compose(relay -> {
              List<Future<String>> posted = new ArrayList<>();
              for (String name : names) {
                posted.add(relay.postJson(new JsonObject().put("name", name).encode())
                    .map(answer -> answer.bodyAsJsonObject().getString("id")));
              }
              return Future.all(posted).compose(all -> relay.awaitExactlyOneLeadEach(portal, all.list()));
            })
            .map(done -> {
              ctx.verify(() -> {
                assertEquals(names.stream().sorted().toList(),
                    portal.leads().stream().map(lead -> lead.getString("NAME")).sorted().toList());
                assertTrue(portal.calls().stream().anyMatch(call -> "batch".equals(call.method())),
                    "some leads went in a batch");
                List<String> alone = portal.calls().stream().filter(call -> "crm.lead.add".equals(call.method()))
                    .map(call -> call.body().getJsonObject("fields").getString("NAME")).toList();
                assertTrue(alone.containsAll(List.of("$result[1]", "$TOTAL[x] руб")), "sent alone: " + alone);
              });
              return null;
            })).onComplete(ctx.succeedingThenComplete());
  }
}
