package io.leadrelay.bitrix;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchResultTest {

  private static final String BATCH_TIME = """
      "time": {"start": 1767225600.1, "finish": 1767225600.9, "duration": 0.8, "processing": 0.7,
               "date_start": "2026-01-01T03:00:00+03:00", "date_finish": "2026-01-01T03:00:00+03:00",
               "operating_reset_at": 1767226200, "operating": 0}""";

  private static String commandTime(double operating) {
    return "{\"start\": 1767225600.2, \"finish\": 1767225600.4, \"duration\": 0.2, \"processing\": 0.2,"
        + " \"date_start\": \"2026-01-01T03:00:00+03:00\", \"date_finish\": \"2026-01-01T03:00:00+03:00\","
        + " \"operating_reset_at\": 1767226200, \"operating\": " + operating + "}";
  }

  private static BatchResult parse(String answer, String... names) {
    return BatchResult.parse(new JsonObject(answer), List.of(names));
  }

  @Test
  void allCommandsSucceeded() {
    BatchResult result = parse("""
        {"result": {
           "result": {"d1": 101, "d2": 102},
           "result_error": [],
           "result_total": [],
           "result_next": [],
           "result_time": {"d1": %s, "d2": %s}},
         %s}""".formatted(commandTime(0.21), commandTime(0.42), BATCH_TIME), "d1", "d2");

    assertTrue(result.allSucceeded());
    assertEquals(List.of("d1", "d2"), List.copyOf(result.outcomes().keySet()));
    assertEquals(101L, result.outcome("d1").leadId());
    assertEquals(102L, result.outcome("d2").leadId());
    assertNull(result.outcome("d1").leadAddError());
    assertEquals(0.42, result.outcome("d2").time().operating());
    assertEquals(Instant.ofEpochSecond(1767226200), result.outcome("d2").time().operatingResetAt());
    assertEquals(0.8, result.time().block().getDouble("duration"));
    assertEquals(Instant.ofEpochSecond(1767226200), result.time().operatingResetAt());
  }

  @Test
  void mixedSuccessAndErrorsIncludingAnEmptyErrorCode() {
    BatchResult result = parse("""
        {"result": {
           "result": {"d1": "201", "d3": 203},
           "result_error": {
             "d2": {"error": "", "error_description": "Required fields are not filled: Name"},
             "d4": {"error": "ACCESS_DENIED", "error_description": "Access denied."}},
           "result_total": [], "result_next": [],
           "result_time": {"d1": %s, "d2": %s, "d3": %s, "d4": %s}},
         %s}""".formatted(commandTime(1), commandTime(2), commandTime(3), commandTime(4), BATCH_TIME),
        "d1", "d2", "d3", "d4");

    assertFalse(result.allSucceeded());
    assertEquals(201L, result.outcome("d1").leadId(), "a numeric string is an id");
    assertEquals(203L, result.outcome("d3").leadId());

    BatchOutcome rejected = result.outcome("d2");
    assertFalse(rejected.succeeded());
    assertNull(rejected.leadId());
    assertEquals(ErrorClass.LEAD_REJECTED, rejected.error().errorClass());
    assertEquals("", rejected.error().code());
    assertEquals("Required fields are not filled: Name", rejected.error().description());
    assertNull(rejected.error().httpStatus(), "a command has no HTTP status of its own");
    assertEquals("Bitrix24 rejected this lead (Required fields are not filled: Name).", rejected.error().reason());
    assertEquals(rejected.error(), rejected.leadAddError());
    assertEquals(2.0, rejected.time().operating());

    assertEquals(ErrorClass.PORTAL_FAILURE, result.outcome("d4").error().errorClass());
    assertEquals("ACCESS_DENIED", result.outcome("d4").error().code());
  }

  @Test
  void codesAreClassifiedAsIfTheCommandHadBeenCalledAlone() {
    BatchResult result = parse("""
        {"result": {
           "result": [],
           "result_error": {
             "a": {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"},
             "b": {"error": "operation_time_limit", "error_description": "Method is blocked"},
             "c": {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal error"},
             "d": {"error": "ERROR_CORE", "error_description": "Wrong PHONE"},
             "e": {"error": "SOMETHING_NEW", "error_description": "?"},
             "f": {"error_description": "no code at all"},
             "g": "Not found"},
           "result_time": {"b": {"operating": 481.5, "operating_reset_at": "1767226260"}}},
         %s}""".formatted(BATCH_TIME), "a", "b", "c", "d", "e", "f", "g");

    assertEquals(ErrorClass.REFUSED, result.outcome("a").error().errorClass());
    assertEquals(ErrorClass.REFUSED, result.outcome("b").error().errorClass());
    assertEquals(Instant.ofEpochSecond(1767226260), result.outcome("b").error().retryAt(),
        "a blocked method can be retried when its own window frees up");
    assertEquals(ErrorClass.AMBIGUOUS, result.outcome("c").error().errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, result.outcome("d").error().errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, result.outcome("e").error().errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, result.outcome("f").error().errorClass());
    assertEquals("", result.outcome("f").error().code());
    assertEquals("no code at all", result.outcome("f").error().description());
    assertEquals(ErrorClass.LEAD_REJECTED, result.outcome("g").error().errorClass());
    assertEquals("Not found", result.outcome("g").error().description());
  }

  @Test
  void allErrorsWithResultAsAnEmptyArray() {
    BatchResult result = parse("""
        {"result": {
           "result": [],
           "result_error": {
             "d1": {"error": "", "error_description": "Access denied."},
             "d2": {"error": "", "error_description": "Access denied."}},
           "result_total": [], "result_next": [], "result_time": []},
         %s}""".formatted(BATCH_TIME), "d1", "d2");

    assertFalse(result.allSucceeded());
    for (BatchOutcome outcome : result.outcomes().values()) {
      // The webhook's user may not add leads: the portal, not two dead leads.
      assertEquals(ErrorClass.PORTAL_FAILURE, outcome.error().errorClass());
      assertEquals("Access denied.", outcome.error().description());
      assertNull(outcome.time(), "result_time is [] here");
    }
  }

  @Test
  void resultErrorAndResultTimeAsEmptyArrays() {
    BatchResult result = parse("""
        {"result": {"result": {"d1": 301}, "result_error": [], "result_total": [], "result_next": [],
                    "result_time": []},
         %s}""".formatted(BATCH_TIME), "d1");

    assertTrue(result.allSucceeded());
    assertEquals(301L, result.outcome("d1").leadId());
    assertNull(result.outcome("d1").time());
    assertEquals(0.0, result.time().operating());
  }

  @Test
  void aCommandTheAnswerDoesNotMentionHasAnUnknownOutcome() {
    BatchResult result = parse("""
        {"result": {"result": {"d1": 401}, "result_error": [], "result_time": {"d1": %s}}, %s}"""
        .formatted(commandTime(0.1), BATCH_TIME), "d1", "d2", "d3");

    assertEquals(401L, result.outcome("d1").leadId());
    for (String name : List.of("d2", "d3")) {
      BatchOutcome unknown = result.outcome(name);
      assertFalse(unknown.succeeded());
      assertEquals(ErrorClass.AMBIGUOUS, unknown.error().errorClass());
      assertTrue(unknown.error().reason().contains("look it up"), unknown.error().reason());
    }
  }

  @Test
  void anAnswerWithoutSectionsLeavesEveryOutcomeUnknown() {
    BatchResult result = BatchResult.parse(new JsonObject().put("result", new JsonArray()), List.of("d1", "d2"));

    assertEquals(ErrorClass.AMBIGUOUS, result.outcome("d1").error().errorClass());
    assertEquals(ErrorClass.AMBIGUOUS, result.outcome("d2").error().errorClass());
    assertNull(result.time());
  }

  @Test
  void aSuccessWithoutAUsableLeadIdMayStillHaveCreatedOne() {
    BatchResult result = parse("""
        {"result": {"result": {"d1": true, "d2": "0", "d3": null, "d4": "12a", "d5": 1.5},
                    "result_error": []}, %s}""".formatted(BATCH_TIME), "d1", "d2", "d3", "d4", "d5");

    for (BatchOutcome outcome : result.outcomes().values()) {
      assertTrue(outcome.succeeded(), outcome.name());
      assertNull(outcome.leadId(), outcome.name());
      assertEquals(ErrorClass.AMBIGUOUS, outcome.leadAddError().errorClass(), outcome.name());
    }
  }

  @Test
  void sectionsWrittenAsListsByPhpAreReadByIndex() {
    // PHP writes an array whose keys are exactly 0, 1, ... as a JSON list.
    BatchResult result = parse("""
        {"result": {"result": [501, "502"], "result_error": [], "result_time": [%s, %s]}, %s}"""
        .formatted(commandTime(0.5), commandTime(0.6), BATCH_TIME), "0", "1", "2");

    assertEquals(501L, result.outcome("0").leadId());
    assertEquals(502L, result.outcome("1").leadId());
    assertEquals(0.6, result.outcome("1").time().operating());
    assertEquals(ErrorClass.AMBIGUOUS, result.outcome("2").error().errorClass());
  }

  @Test
  void anErrorEntryWinsOverAValueAndUnsentNamesAreIgnored() {
    BatchResult result = parse("""
        {"result": {"result": {"d1": 601, "other": 602},
                    "result_error": {"d1": {"error": "ERROR_CORE", "error_description": "x"}}}}""", "d1");

    assertEquals(List.of("d1"), List.copyOf(result.outcomes().keySet()));
    assertFalse(result.outcome("d1").succeeded());
    assertNull(result.outcome("other"));
    assertNull(result.time(), "no time block in this answer");
  }

  @Test
  void redactionMasksTheWebhookCodeInErrorTexts() {
    BatchResult result = parse("""
        {"result": {"result": [], "result_error": {"d1": {"error": "",
          "error_description": "bad url https://portal.example/rest/1/s3cr3tc0de/crm.lead.add"}}}}""", "d1")
        .redact("s3cr3tc0de");

    assertFalse(result.outcome("d1").error().description().contains("s3cr3tc0de"));
    assertTrue(result.outcome("d1").error().description().contains("/rest/1/***/"));
  }

  /**
   * Portal-wide errors inside a batch mean the portal, not dead leads; a failure while a command ran is ambiguous;
   * an OPERATION_TIME_LIMIT with result_time [] takes its retry time from the batch's own time block.
   */
  @Test
  void recordedCommandErrorsAreClassifiedByWhatThePortalMeans() {
    JsonObject recorded = io.leadrelay.testing.Resources.json("bitrix/answers/batch-portal-errors.json");

    BatchResult result = BatchResult.parse(recorded.getJsonObject("body"), List.of("denied", "sql", "blocked"));

    assertEquals(ErrorClass.PORTAL_FAILURE, result.outcome("denied").error().errorClass());
    assertEquals(ErrorClass.AMBIGUOUS, result.outcome("sql").error().errorClass());
    BitrixError blocked = result.outcome("blocked").error();
    assertEquals(ErrorClass.REFUSED, blocked.errorClass());
    assertEquals(java.time.Instant.ofEpochSecond(1653126419), blocked.retryAt());
    assertEquals(481.5, result.time().operating());
  }
}
