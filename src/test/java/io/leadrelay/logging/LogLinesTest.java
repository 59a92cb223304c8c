package io.leadrelay.logging;

import io.leadrelay.bitrix.LeadCreated;
import io.leadrelay.store.Delivery;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LogLinesTest {

  private static final Instant NOW = Instant.parse("2025-03-01T10:15:30.123Z");

  @Test
  void webhookLineIsTimedWhenTheWebhookArrived() {
    JsonObject payload = new JsonObject().put("name", "Анна 🌸").put("phone", "+79990001122");
    Delivery delivery = new Delivery("d-1", "main", Instant.parse("2025-03-01T10:00:00Z"), "10.0.0.7", payload);

    JsonObject line = LogLines.webhook(delivery.toJson());

    assertEquals("{\"time\":\"2025-03-01T10:00:00Z\",\"id\":\"d-1\",\"integration\":\"main\","
        + "\"remoteAddress\":\"10.0.0.7\",\"payload\":{\"name\":\"Анна 🌸\",\"phone\":\"+79990001122\"}}",
        line.encode());
  }

  @Test
  void successLineForACreatedLead() {
    LeadCreated created = new LeadCreated("d-1", "main", 123L, false, 87, "https://x.bitrix24.ru/rest/1/***/", null);

    JsonObject line = LogLines.success(created.toJson(), NOW);

    assertEquals("{\"time\":\"2025-03-01T10:15:30.123Z\",\"id\":\"d-1\",\"integration\":\"main\",\"leadId\":123,"
        + "\"elapsedMs\":87,\"portal\":\"https://x.bitrix24.ru/rest/1/***/\"}", line.encode());
  }

  @Test
  void successLineInDryRunShowsTheLeadThatWouldHaveBeenCreated() {
    JsonObject lead = new JsonObject().put("TITLE", "Заявка из бота").put("NAME", "Анна");
    LeadCreated created = new LeadCreated("d-2", "main", null, true, 3, null, lead);

    JsonObject line = LogLines.success(created.toJson(), NOW);

    assertEquals(List.of("time", "id", "integration", "leadId", "elapsedMs", "portal", "dryRun", "lead"),
        List.copyOf(line.fieldNames()));
    assertEquals(null, line.getValue("leadId"));
    assertEquals(true, line.getBoolean("dryRun"));
    assertEquals(lead, line.getJsonObject("lead"));
    assertEquals("{\"time\":\"2025-03-01T10:15:30.123Z\",\"id\":\"d-2\",\"integration\":\"main\",\"leadId\":null,"
        + "\"elapsedMs\":3,\"portal\":null,\"dryRun\":true,"
        + "\"lead\":{\"TITLE\":\"Заявка из бота\",\"NAME\":\"Анна\"}}", line.encode());
  }

  @Test
  void errorLineKeepsTheErrorEventFieldsInOrderAfterTheTime() {
    ErrorEvent failed = new ErrorEvent("bitrix", "d-3", "main", "bitrix_rejected", "Bitrix24 refused the lead.",
        "permanent", 400, "ERROR_CORE", null);

    JsonObject line = LogLines.error(failed.toJson(), NOW);

    assertEquals("{\"time\":\"2025-03-01T10:15:30.123Z\",\"stage\":\"bitrix\",\"deliveryId\":\"d-3\","
        + "\"integration\":\"main\",\"error\":\"bitrix_rejected\",\"reason\":\"Bitrix24 refused the lead.\","
        + "\"errorClass\":\"permanent\",\"httpStatus\":400,\"bitrixCode\":\"ERROR_CORE\"}", line.encode());
  }

  @Test
  void errorLineForARefusedRequestLeavesOutWhatDoesNotApply() {
    ErrorEvent refused = ErrorEvent.refused("main", "bad_secret", "The secret in the URL is wrong.", 403,
        "203.0.113.5");

    JsonObject line = LogLines.error(refused.toJson(), NOW);

    assertEquals("{\"time\":\"2025-03-01T10:15:30.123Z\",\"stage\":\"http\",\"integration\":\"main\","
        + "\"error\":\"bad_secret\",\"reason\":\"The secret in the URL is wrong.\",\"httpStatus\":403,"
        + "\"remoteAddress\":\"203.0.113.5\"}", line.encode());
  }
}
