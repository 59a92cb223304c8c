package io.leadrelay.e2e;

import io.leadrelay.config.RepeatConfig;
import io.leadrelay.config.RepeatConfig.Policy;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
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
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Returning subscribers through the real verticles to a fake portal, under each {@code repeat} policy: where the
 * second webhook lands (a comment, a filled-in lead, a lead bound to the contact, or a new lead when the match is
 * too old), and that it lands there once, also when two arrive together or an answer is lost.
 */
@ExtendWith(VertxExtension.class)
class RepeatPolicyTest {

  @TempDir
  Path dir;

  private static String webhook(String name, String phone, String email, String wish) {
    JsonObject payload = new JsonObject().put("bothelp_user_id", 255).put("name", name);
    if (phone != null) {
      payload.put("phone", phone);
    }
    if (email != null) {
      payload.put("email", email);
    }
    if (wish != null) {
      payload.put("пожелания", wish);
    }
    return payload.encode();
  }

  private static Future<TestRelay> relay(Vertx vertx, Path dir, Policy policy, int days) {
    return TestRelay.startWithPortal(vertx, dir, new RepeatConfig(policy, days));
  }

  /** Posts a webhook and waits until the relay has recorded that many successes. */
  private static Future<String> deliver(TestRelay relay, String payload, int successes) {
    return relay.postJson(payload).compose(response -> {
      String id = response.bodyAsJsonObject().getString("id");
      return relay.awaitLines("success", lines -> lines.size() >= successes).map(lines -> id);
    });
  }

  @Test
  void commentPutsTheReturningSubscriberOnTheExistingLeadsTimeline(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.COMMENT, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return deliver(relay, webhook("Анна", "79991234567", null, null), 1)
          .compose(first -> deliver(relay, webhook("Анна К.", "79991234567", "anna@example.ru", "Перезвоните"), 2))
          .map(second -> {
            ctx.verify(() -> {
              assertEquals(1, portal.leads().size(), "no second lead");
              List<FakeCrm.Comment> comments = portal.crm().comments();
              assertEquals(1, comments.size());
              FakeCrm.Comment comment = comments.get(0);
              assertEquals("lead", comment.entityType());
              assertEquals(portal.leadIds().get(0), comment.entityId());
              assertTrue(comment.text().contains("Имя: Анна К."), comment.text());
              assertTrue(comment.text().contains("E-mail: anna@example.ru"), comment.text());
              assertTrue(comment.text().contains("пожелания: Перезвоните"), comment.text());
              assertTrue(comment.text().endsWith("[LeadRelay delivery " + second + "]"), comment.text());
              JsonObject success = relay.lines("success").get(1);
              assertEquals(second, success.getString("id"));
              assertEquals(portal.leadIds().get(0), success.getLong("leadId"));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void commentGoesToAContactWhenNoLeadMatches(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.COMMENT, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      long contact = portal.crm().addContact(new JsonObject().put("NAME", "Борис")
          .put("EMAIL", new JsonArray().add(new JsonObject().put("VALUE", "boris@example.ru")
              .put("VALUE_TYPE", "WORK"))));
      // The subscriber types the address in capitals: e-mails match without case.
      return deliver(relay, webhook("Борис", null, "Boris@Example.RU", null), 1).map(id -> {
        ctx.verify(() -> {
          assertTrue(portal.leads().isEmpty());
          assertEquals(List.of(contact), portal.crm().comments().stream()
              .filter(c -> c.entityType().equals("contact")).map(FakeCrm.Comment::entityId).toList());
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void updateFillsOnlyEmptyFieldsAndNeverDuplicatesThePhone(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.UPDATE, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return deliver(relay, webhook("Вера", "79990001122", null, null), 1)
          .compose(first -> deliver(relay, new JsonObject(webhook("Вера Петровна", "79990001122",
              "vera@example.ru", null)).put("utm_source", "VK").encode(), 2))
          .map(second -> {
            ctx.verify(() -> {
              assertEquals(1, portal.leads().size());
              JsonObject lead = portal.leads().get(0);
              assertEquals("Вера", lead.getString("NAME"), "a filled field is kept");
              assertEquals("VK", lead.getString("UTM_SOURCE"), "an empty field is filled");
              assertEquals(1, lead.getJsonArray("PHONE").size(), "the phone is not added twice");
              assertEquals("vera@example.ru", lead.getJsonArray("EMAIL").getJsonObject(0).getString("VALUE"));
              assertEquals(1, portal.crm().comments().size());
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void linkCreatesANewLeadBoundToTheExistingContact(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.LINK, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      // Stored in E.164, as the relay stores phones (README "Phone numbers"); findbycomm compares the strings.
      long contact = portal.crm().addContact(new JsonObject().put("NAME", "Глеб")
          .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "+79995556677").put("VALUE_TYPE", "MOBILE"))));
      return deliver(relay, webhook("Глеб", "79995556677", null, null), 1)
          .compose(first -> deliver(relay, webhook("Дина", "79990000000", null, null), 2))
          .map(second -> {
            ctx.verify(() -> {
              assertEquals(2, portal.leads().size());
              assertEquals(String.valueOf(contact), String.valueOf(portal.leads().get(0).getValue("CONTACT_ID")));
              assertFalse(portal.leads().get(1).containsKey("CONTACT_ID"), "no contact: a plain new lead");
              assertTrue(portal.crm().comments().isEmpty());
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aMatchOlderThanTheWindowIsIgnored(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.COMMENT, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return deliver(relay, webhook("Ева", "79997778899", null, null), 1)
          .compose(first -> {
            portal.crm().lastChanged(portal.leadIds().get(0), Instant.now().minus(Duration.ofDays(40)));
            // Not the same body: an identical one within the repeat window would be the same delivery.
            return deliver(relay, webhook("Ева", "79997778899", null, "снова"), 2);
          })
          .map(second -> {
            ctx.verify(() -> {
              assertEquals(2, portal.leads().size(), "the old lead is not this month's: a new lead");
              assertTrue(portal.crm().comments().isEmpty());
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void theSameNewSubscriberTwiceAtOnceMakesOneLead(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.COMMENT, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return Future.all(relay.postJson(webhook("Жанна", "79991112233", null, "первая")),
              relay.postJson(webhook("Жанна", "79991112233", null, "вторая")),
              relay.postJson(webhook("Жанна", "79991112233", null, "третья")))
          .compose(all -> relay.awaitLines("success", lines -> lines.size() >= 3))
          .map(lines -> {
            ctx.verify(() -> {
              assertEquals(1, portal.leads().size(), "one lead for one subscriber");
              assertEquals(2, portal.crm().comments().size());
              assertTrue(portal.crm().comments().stream()
                  .allMatch(c -> c.entityId() == portal.leadIds().get(0)));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aLostAnswerNeverMakesASecondComment(Vertx vertx, VertxTestContext ctx) {
    relay(vertx, dir, Policy.COMMENT, 30).compose(relay -> {
      FakeBitrixPortal portal = relay.portal();
      return deliver(relay, webhook("Зоя", "79993334455", null, null), 1)
          .compose(first -> {
            // The second webhook's requests: look-up, listing of the match, then the comment: it is added, and the
            // connection drops before the answer.
            AtomicInteger batches = new AtomicInteger();
            portal.faults(() -> batches.incrementAndGet() == 3 ? Reply.createThenDrop() : null);
            return deliver(relay, webhook("Зоя", "79993334455", null, "ещё раз"), 2);
          })
          .map(second -> {
            ctx.verify(() -> {
              assertEquals(1, portal.leads().size());
              assertEquals(1, portal.crm().comments().size(), "found by its marker, not added again");
              assertTrue(portal.calls().stream().anyMatch(call -> call.method().equals("batch")
                  && call.body().encode().contains("crm.timeline.comment.list")));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
