package io.leadrelay.crm;

import io.leadrelay.config.RepeatConfig;
import io.leadrelay.config.RepeatConfig.Policy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepeatDecisionTest {

  private static final Instant NOW = Instant.parse("2026-11-30T09:00:00Z");
  private static final String DELIVERY = "01JDELIVERY0000000000000001";

  private static JsonArray rows(String value) {
    return new JsonArray().add(new JsonObject().put("VALUE", value).put("VALUE_TYPE", "WORK"));
  }

  private static final JsonObject LEAD = new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", "Анна")
      .put("PHONE", rows("+79991234567")).put("UTM_SOURCE", "VK").put("COMMENTS", "Бюджет: 9000")
      .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", DELIVERY);

  private static JsonObject found(long id, String phone, String changed) {
    return new JsonObject().put("ID", String.valueOf(id)).put("PHONE", rows(phone))
        .put("DATE_CREATE", "2026-01-01T10:00:00+03:00").put("DATE_MODIFY", changed);
  }

  private static RepeatDecision.Action decide(Policy policy, int days, List<JsonObject> leads,
                                              List<JsonObject> contacts) {
    return RepeatDecision.decide(DELIVERY, LEAD, new RepeatConfig(policy, days), NOW, leads, contacts);
  }

  @Test
  void commentGoesToTheMostRecentlyChangedMatchingLead() {
    RepeatDecision.Action action = decide(Policy.COMMENT, 30, List.of(
        found(5, "+79991234567", "2026-11-20T10:00:00+03:00"),
        found(9, "+79991234567", "2026-11-28T10:00:00+03:00"),
        // Found by another lead of the batch: not this subscriber's.
        found(12, "+79990000000", "2026-11-29T10:00:00+03:00")), List.of());
    RepeatDecision.Comment comment = assertInstanceOf(RepeatDecision.Comment.class, action);
    assertEquals("lead", comment.entityType());
    assertEquals(9, comment.entityId());
    assertTrue(comment.text().contains("Имя: Анна"));
    assertTrue(comment.text().endsWith(RepeatComment.marker(DELIVERY)));
  }

  @Test
  void aContactIsCommentedWhenNoLeadMatches() {
    RepeatDecision.Action action = decide(Policy.COMMENT, 30, List.of(),
        List.of(found(3, "+79991234567", "2026-11-01T10:00:00+03:00")));
    RepeatDecision.Comment comment = assertInstanceOf(RepeatDecision.Comment.class, action);
    assertEquals("contact", comment.entityType());
    assertEquals(3, comment.entityId());
  }

  @Test
  void aMatchOlderThanTheWindowDoesNotCountAndZeroDaysMeansAnyAge() {
    List<JsonObject> old = List.of(found(5, "+79991234567", "2026-09-01T10:00:00+03:00"));
    RepeatDecision.Create create = assertInstanceOf(RepeatDecision.Create.class,
        decide(Policy.COMMENT, 30, old, List.of()));
    assertEquals(LEAD, create.fields());
    assertInstanceOf(RepeatDecision.Comment.class, decide(Policy.COMMENT, 0, old, List.of()));
  }

  @Test
  void newCreatesEvenWithAMatch() {
    assertInstanceOf(RepeatDecision.Create.class, decide(Policy.NEW, 30,
        List.of(found(5, "+79991234567", "2026-11-29T10:00:00+03:00")), List.of()));
  }

  @Test
  void updateFillsTheMatchingLeadsEmptyFields() {
    JsonObject existing = found(5, "+79991234567", "2026-11-29T10:00:00+03:00").put("NAME", "Аня")
        .put("UTM_SOURCE", "");
    RepeatDecision.Update update = assertInstanceOf(RepeatDecision.Update.class,
        decide(Policy.UPDATE, 30, List.of(existing), List.of()));
    assertEquals(5, update.leadId());
    assertEquals(new JsonObject().put("UTM_SOURCE", "VK").put("COMMENTS", "Бюджет: 9000"), update.fill());
  }

  @Test
  void linkBindsTheNewLeadToTheContactOrToAMatchingLeadsContact() {
    RepeatDecision.Create toContact = assertInstanceOf(RepeatDecision.Create.class, decide(Policy.LINK, 30,
        List.of(), List.of(found(3, "+79991234567", "2026-11-29T10:00:00+03:00"))));
    assertEquals(3L, toContact.fields().getLong("CONTACT_ID"));
    assertEquals(3L, toContact.contactId());
    assertFalse(LEAD.containsKey("CONTACT_ID"), "the command's fields are not changed");

    RepeatDecision.Create viaLead = assertInstanceOf(RepeatDecision.Create.class, decide(Policy.LINK, 30,
        List.of(found(5, "+79991234567", "2026-11-29T10:00:00+03:00").put("CONTACT_ID", "8")), List.of()));
    assertEquals(8L, viaLead.contactId());

    RepeatDecision.Create plain = assertInstanceOf(RepeatDecision.Create.class,
        decide(Policy.LINK, 30, List.of(), List.of()));
    assertEquals(LEAD, plain.fields());
  }

  @Test
  void theMarkerNamesTheDeliveryOnly() {
    String text = RepeatComment.text(DELIVERY, LEAD);
    assertTrue(RepeatComment.isFor(DELIVERY, text));
    assertFalse(RepeatComment.isFor("01JDELIVERY0000000000000002", text));
    assertFalse(RepeatComment.isFor(DELIVERY, null));
    assertThrows(IllegalArgumentException.class, () -> RepeatComment.marker("a]b"));
  }
}
