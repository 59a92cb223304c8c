package io.leadrelay.bitrix;

import io.leadrelay.testing.Resources;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldRejectionTest {

  private static BitrixError answer(int status, String resource) {
    return BitrixErrorClassifier.classify(status, "application/json", Resources.text("bitrix/" + resource));
  }

  /** The same body as the result_error of one batch command: no status of its own. */
  private static BitrixError inBatch(String resource) {
    JsonObject error = Resources.json("bitrix/" + resource);
    JsonObject answer = new JsonObject().put("result", new JsonObject()
        .put("result", new io.vertx.core.json.JsonArray())
        .put("result_error", new JsonObject().put("d-1", error)));
    return BatchResult.parse(answer, java.util.List.of("d-1")).outcomes().get("d-1").error();
  }

  @ParameterizedTest
  @ValueSource(strings = {"lead-add-email-invalid.json", "lead-add-multifield-too-long.json",
      "lead-add-opportunity-invalid.json", "lead-add-custom-field-invalid.json"})
  void aRefusedFieldValueIsAFieldError(String resource) {
    assertTrue(FieldRejection.isFieldError(answer(400, resource)));
    assertTrue(FieldRejection.isFieldError(inBatch(resource)));
  }

  @Test
  void aMissingRequiredFieldIsNotCuredByRemovingFields() {
    assertFalse(FieldRejection.isFieldError(answer(400, "lead-add-required-field.json")));
    assertFalse(FieldRejection.isFieldError(BitrixErrorClassifier.classify(400, "application/json",
        "{\"error\":\"\",\"error_description\":\"Не заполнено обязательное поле \\\"Телефон\\\"<br />\"}")));
  }

  @Test
  void otherRejectionsAreNotFieldErrors() {
    assertFalse(FieldRejection.isFieldError(answer(400, "lead-add-access-denied.json")));
    assertFalse(FieldRejection.isFieldError(BitrixErrorClassifier.classify(400, "application/json",
        "{\"error\":\"\",\"error_description\":\"Не заполнено обязательное поле \\\"Телефон\\\"\"}")));
    assertFalse(FieldRejection.isFieldError(BitrixErrorClassifier.classify(400, "application/json",
        "{\"error\":\"INVALID_REQUEST\",\"error_description\":\"bad<br />\"}")));
    assertFalse(FieldRejection.isFieldError(answer(500, "lead-add-email-invalid.json")), "a 5xx is ambiguous");
    assertFalse(FieldRejection.isFieldError(null));
  }
}
