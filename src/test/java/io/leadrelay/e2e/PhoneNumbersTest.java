package io.leadrelay.e2e;

import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Phone numbers as the sales team gets them in Bitrix24: one form however they were typed, garbage kept. */
@ExtendWith(VertxExtension.class)
class PhoneNumbersTest {

  @TempDir
  Path dir;

  @Test
  void phonesReachTheLeadInE164AndAnythingElseAsTypedWithANote(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir)
        .compose(relay -> Future.all(
                relay.postJson("{\"name\":\"Анна\",\"phone\":\"8 (999) 123-45-67\"}"),
                relay.postJson("{\"name\":\"Борис\",\"phone\":\"+7 701 123 45 67\"}"),
                relay.postJson("{\"name\":\"Вера\",\"phone\":\"+375 (29) 123-45-67\"}"),
                relay.postJson("{\"name\":\"Глеб\",\"phone\":\"не скажу\",\"Город\":\"Казань\"}"))
            .compose(sent -> relay.poll(() -> relay.portal().leads().size() == 4 ? relay.portal().leads() : null)))
        .onComplete(ctx.succeeding(leads -> ctx.verify(() -> {
          List<JsonObject> byName = leads.stream()
              .sorted(Comparator.comparing(lead -> lead.getString("NAME"))).toList();
          assertEquals(phone("+79991234567"), byName.get(0).getJsonArray("PHONE"));
          assertEquals(phone("+77011234567"), byName.get(1).getJsonArray("PHONE"));
          assertEquals(phone("+375291234567"), byName.get(2).getJsonArray("PHONE"));
          assertEquals(phone("не скажу"), byName.get(3).getJsonArray("PHONE"));
          assertEquals("Город: Казань\nТелефон (не распознан как номер, сохранён как введён): не скажу",
              byName.get(3).getString("COMMENTS"));
          ctx.completeNow();
        })));
  }

  @Test
  void theIntegrationsRegionReadsNumbersWithoutACountryCode(Vertx vertx, VertxTestContext ctx) {
    MappingConfig belarus = MappingConfig.fromJson(new JsonObject().put("phoneRegion", "by"), "test.mapping");
    FakeBitrixPortal.start(vertx)
        .compose(portal -> TestRelay.start(vertx, dir, portal.webhookUrl(), belarus)
            .compose(relay -> relay.postJson("{\"name\":\"Дарья\",\"phone\":\"8 029 123-45-67\"}")
                .compose(sent -> relay.poll(() -> portal.leads().isEmpty() ? null : portal.leads().get(0)))))
        .onComplete(ctx.succeeding(lead -> ctx.verify(() -> {
          assertEquals(phone("+375291234567"), lead.getJsonArray("PHONE"));
          ctx.completeNow();
        })));
  }

  private static JsonArray phone(String value) {
    return new JsonArray().add(new JsonObject().put("VALUE", value).put("VALUE_TYPE", "WORK"));
  }
}
