package io.leadrelay.crm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DealFieldsTest {

  @Test
  void thePersonGoesToTheContactAndTheRequestToTheDeal() {
    JsonArray phone = new JsonArray().add(new JsonObject().put("VALUE", "+79991234567").put("VALUE_TYPE", "WORK"));
    JsonObject lead = new JsonObject()
        .put("TITLE", "Новый лид из BotHelp").put("NAME", "Анна").put("LAST_NAME", "Петрова").put("PHONE", phone)
        .put("UTM_SOURCE", "vk").put("ASSIGNED_BY_ID", 7).put("SOURCE_ID", "WEB").put("STATUS_ID", "NEW")
        .put("COMMENTS", "Город: Казань").put("OPPORTUNITY", "9000").put("UF_CRM_CITY", "Казань")
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-1");

    DealFields.Split split = DealFields.split(lead);

    assertEquals(new JsonObject().put("NAME", "Анна").put("LAST_NAME", "Петрова").put("PHONE", phone)
        .put("ASSIGNED_BY_ID", 7).put("SOURCE_ID", "WEB").put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-1"),
        split.contact());
    assertEquals(new JsonObject().put("TITLE", "Новый лид из BotHelp").put("UTM_SOURCE", "vk")
        .put("ASSIGNED_BY_ID", 7).put("SOURCE_ID", "WEB").put("COMMENTS", "Город: Казань").put("OPPORTUNITY", "9000")
        .put("UF_CRM_CITY", "Казань").put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-1"), split.deal());
    assertEquals(42L, split.dealFor(42L).getLong("CONTACT_ID"));
    assertEquals(null, split.deal().getValue("CONTACT_ID"), "the split itself is not changed");
  }
}
