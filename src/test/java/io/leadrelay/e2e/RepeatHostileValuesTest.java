package io.leadrelay.e2e;

import io.leadrelay.config.RepeatConfig;
import io.leadrelay.config.RepeatConfig.Policy;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeCrm;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A returning subscriber whose phone or e-mail Bitrix24 would rewrite inside a batch ({@code $result[...]}): the
 * duplicate search must look for the value as typed, so the repeat still lands on the existing lead, once.
 */
@ExtendWith(VertxExtension.class)
class RepeatHostileValuesTest {

  @TempDir
  Path dir;

  private static Future<String> deliver(TestRelay relay, JsonObject payload, int successes) {
    return relay.postJson(payload.encode()).compose(response -> {
      String id = response.bodyAsJsonObject().getString("id");
      return relay.awaitLines("success", lines -> lines.size() >= successes).map(lines -> id);
    });
  }

  @Test
  void aPhoneThatABatchWouldRewriteIsStillFoundAndCommentedOnce(Vertx vertx, VertxTestContext ctx) {
    String phone = "$result[find0]";
    TestRelay.startWithPortal(vertx, dir, new RepeatConfig(Policy.COMMENT, 30)).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      // Saved in the CRM earlier (by hand, or by a lead sent alone as plain JSON): the value as typed.
      long contact = portal.crm().addContact(new JsonObject().put("NAME", "Ева")
          .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", phone).put("VALUE_TYPE", "MOBILE"))));
      JsonObject again = new JsonObject().put("bothelp_user_id", 1).put("name", "Ева снова").put("phone", phone);
      return deliver(relay, again, 1).map(id -> {
        ctx.verify(() -> {
          assertEquals(0, portal.leads().size(), "the repeat made a new lead: " + portal.leads());
          List<FakeCrm.Comment> comments = portal.crm().comments();
          assertEquals(1, comments.size());
          assertEquals("contact", comments.get(0).entityType());
          assertEquals(contact, comments.get(0).entityId());
          assertTrue(comments.get(0).text().contains("Имя: Ева снова"), comments.get(0).text());
          assertTrue(comments.get(0).text().contains("Телефон: " + phone), comments.get(0).text());
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
