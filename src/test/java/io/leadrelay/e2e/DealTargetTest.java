package io.leadrelay.e2e;

import io.leadrelay.config.CrmTarget;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.FakeCrm;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code target: deal}: a webhook becomes one deal bound to one contact, exactly once, and no lead. */
@ExtendWith(VertxExtension.class)
class DealTargetTest {

  @TempDir
  Path dir;

  @Test
  void aWebhookBecomesADealWithANewContact(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir, CrmTarget.DEAL).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return relay.postJson("{\"name\":\"Анна\",\"phone\":\"8 (999) 123-45-67\",\"email\":\"anna@example.com\","
              + "\"utm_source\":\"vk\",\"Город\":\"Казань\"}")
          .compose(sent -> relay.awaitLines("success", lines -> !lines.isEmpty()))
          .map(lines -> {
            ctx.verify(() -> {
              assertTrue(portal.leads().isEmpty(), "no lead");
              List<FakeCrm.Entity> contacts = portal.crm().contacts();
              List<FakeCrm.Entity> deals = portal.crm().deals();
              assertEquals(1, contacts.size());
              assertEquals(1, deals.size());
              JsonObject contact = contacts.get(0).fields();
              JsonObject deal = deals.get(0).fields();
              assertEquals("Анна", contact.getString("NAME"));
              assertEquals(new JsonArray().add(new JsonObject().put("VALUE", "+79991234567").put("VALUE_TYPE", "WORK")),
                  contact.getJsonArray("PHONE"));
              assertEquals("anna@example.com", contact.getJsonArray("EMAIL").getJsonObject(0).getString("VALUE"));
              assertEquals("Новый лид из BotHelp", deal.getString("TITLE"));
              assertEquals("Город: Казань", deal.getString("COMMENTS"));
              assertEquals("vk", deal.getString("UTM_SOURCE"));
              assertEquals(String.valueOf(contacts.get(0).id()), String.valueOf(deal.getValue("CONTACT_ID")));
              assertEquals(lines.get(0).getString("id"), deal.getString("ORIGIN_ID"));
              assertNull(deal.getValue("NAME"), "the person is on the contact");
              assertEquals(deals.get(0).id(), lines.get(0).getLong("leadId"), "success.log names the deal");
            });
            return lines.get(0).getString("id");
          })
          .compose(id -> relay.client().get(relay.port(), "127.0.0.1", "/admin/deliveries/" + id)
              .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send())
          .map(preview -> {
            ctx.verify(() -> {
              JsonObject deal = preview.bodyAsJsonObject().getJsonObject("mappedDeal");
              assertEquals("Анна", deal.getJsonObject("contact").getString("NAME"));
              assertEquals("+79991234567", deal.getJsonObject("contact").getJsonArray("PHONE").getJsonObject(0)
                  .getString("VALUE"));
              assertEquals("Город: Казань", deal.getJsonObject("deal").getString("COMMENTS"));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aReturningCustomersContactIsReused(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir, CrmTarget.DEAL).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      long existing = portal.crm().addContact(new JsonObject().put("NAME", "Борис").put("PHONE",
          new JsonArray().add(new JsonObject().put("VALUE", "+79995556677").put("VALUE_TYPE", "MOBILE"))));
      return relay.postJson("{\"name\":\"Борис\",\"phone\":\"8 999 555-66-77\"}")
          .compose(sent -> relay.awaitLines("success", lines -> !lines.isEmpty()))
          .map(lines -> {
            ctx.verify(() -> {
              assertEquals(1, portal.crm().contacts().size(), "no second contact");
              assertEquals(1, portal.crm().deals().size());
              assertEquals(String.valueOf(existing),
                  String.valueOf(portal.crm().deals().get(0).fields().getValue("CONTACT_ID")));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aLostAnswerMakesNeitherASecondDealNorASecondContact(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir, CrmTarget.DEAL).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      // No phone, no e-mail: the first request is the add itself; the portal creates both and the answer is lost.
      portal.enqueue(Reply.createThenDrop());
      return relay.postJson("{\"name\":\"Вера\",\"Город\":\"Омск\"}")
          .compose(sent -> relay.awaitLines("success", lines -> !lines.isEmpty()))
          .map(lines -> {
            ctx.verify(() -> {
              assertEquals(1, portal.crm().deals().size(), "one deal");
              assertEquals(1, portal.crm().contacts().size(), "one contact");
              assertTrue(portal.calls().stream().anyMatch(c -> "batch".equals(c.method())
                  && c.body().encode().contains("crm.deal.list")), "the retry looked the deal up first");
              assertEquals(portal.crm().deals().get(0).id(), lines.get(0).getLong("leadId"));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
