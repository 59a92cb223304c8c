package io.leadrelay.crm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeadFillerTest {

  private static JsonArray rows(String value) {
    return new JsonArray().add(new JsonObject().put("VALUE", value).put("VALUE_TYPE", "WORK"));
  }

  @Test
  void onlyEmptyFieldsAreFilled() {
    JsonObject existing = new JsonObject().put("ID", "5").put("NAME", "Аня").put("LAST_NAME", "")
        .put("SECOND_NAME", null).put("PHONE", rows("+79991234567"));
    JsonObject incoming = new JsonObject().put("NAME", "Анна").put("LAST_NAME", "Иванова")
        .put("SECOND_NAME", "Петровна").put("PHONE", rows("+79991234567")).put("EMAIL", rows("anna@example.ru"))
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "01J").put("TITLE", "Новый лид")
        .put("ASSIGNED_BY_ID", 1);

    assertEquals(new JsonObject().put("LAST_NAME", "Иванова").put("SECOND_NAME", "Петровна")
        .put("EMAIL", rows("anna@example.ru")), LeadFiller.fill(existing, incoming));
  }

  @Test
  void aMultiFieldWithAnyRowIsLeftAloneSinceARowWithoutIdWouldBeAdded() {
    JsonObject existing = new JsonObject().put("PHONE", rows("+79990000000"));
    assertTrue(LeadFiller.fill(existing, new JsonObject().put("PHONE", rows("+79991234567"))).isEmpty());
  }

  @Test
  void fillingTwiceChangesNothingTheSecondTime() {
    JsonObject existing = new JsonObject().put("NAME", "Аня");
    JsonObject incoming = new JsonObject().put("NAME", "Анна").put("UTM_SOURCE", "VK").put("EMAIL", rows("a@b.ru"));
    JsonObject fill = LeadFiller.fill(existing, incoming);
    existing.mergeIn(fill);
    assertTrue(LeadFiller.fill(existing, incoming).isEmpty());
  }
}
