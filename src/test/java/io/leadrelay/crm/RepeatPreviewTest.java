package io.leadrelay.crm;

import io.leadrelay.config.RepeatConfig;
import io.leadrelay.config.RepeatConfig.Policy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepeatPreviewTest {

  private static final JsonObject LEAD = new JsonObject().put("NAME", "Анна")
      .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "+79991234567").put("VALUE_TYPE", "WORK")))
      .put("EMAIL", new JsonArray().add(new JsonObject().put("VALUE", "Anna@Example.ru").put("VALUE_TYPE", "WORK")));

  @Test
  void commentShowsWhatIsMatchedAndTheCommentsText() {
    JsonObject preview = RepeatPreview.of(new RepeatConfig(Policy.COMMENT, 30), "01JDELIVERY", LEAD);
    assertEquals("comment", preview.getString("policy"));
    assertEquals(new JsonArray().add("PHONE +79991234567").add("EMAIL anna@example.ru"),
        preview.getJsonArray("matchedBy"));
    assertTrue(preview.getString("whenFound").contains("changed in the last 30 days"));
    assertEquals("a new lead", preview.getString("whenNotFound"));
    assertTrue(preview.getString("comment").endsWith("[LeadRelay delivery 01JDELIVERY]"));
  }

  @Test
  void linkHasNoCommentAndNewNoPreview() {
    JsonObject link = RepeatPreview.of(new RepeatConfig(Policy.LINK, 0), "01JDELIVERY", LEAD);
    assertTrue(link.getString("whenFound").contains("CONTACT_ID"));
    assertFalse(link.containsKey("comment"));
    assertNull(RepeatPreview.of(RepeatConfig.NEW, "01JDELIVERY", LEAD));
    assertTrue(RepeatPreview.of(new RepeatConfig(Policy.UPDATE, 7), "01JDELIVERY", new JsonObject())
        .getString("whenNotFound").contains("no phone or e-mail"));
  }
}
