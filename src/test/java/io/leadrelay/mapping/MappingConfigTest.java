package io.leadrelay.mapping;

import io.leadrelay.config.ConfigException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappingConfigTest {

  private static final String PATH = "integrations.default.mapping";

  @Test
  void noMappingObjectMeansTheDefaults() {
    assertEquals(MappingConfig.defaults(), MappingConfig.fromJson(null, PATH));
    assertEquals(MappingConfig.defaults(), MappingConfig.fromJson(new JsonObject(), PATH));
  }

  @Test
  void everyKeyParses() {
    MappingConfig config = parse("{"
        + "\"title\":\"Заявка: {Тип продукта}\","
        + "\"phoneType\":\"MOBILE\","
        + "\"emailType\":\"HOME\","
        + "\"assignedById\":17,"
        + "\"sourceId\":\"UC_TELEGRAM\","
        + "\"sourceDescription\":\"Бот в Telegram\","
        + "\"statusId\":\"IN_PROCESS\","
        + "\"opened\":true,"
        + "\"registerSonetEvent\":false,"
        + "\"systemFields\":[\"cuid\",\"ref\"],"
        + "\"extraSystemFields\":[\"Служебное поле\"],"
        + "\"fieldMap\":{\"Город\":\"UF_CRM_CITY\",\"Бюджет\":\"OPPORTUNITY\",\"Telegram\":\"IM\"},"
        + "\"originatorId\":\"bot-42\"}");

    assertEquals(new MappingConfig("Заявка: {Тип продукта}", "MOBILE", "HOME", 17, "UC_TELEGRAM", "Бот в Telegram",
        "IN_PROCESS", "Y", false, List.of("cuid", "ref", "Служебное поле"),
        Map.of("Город", "UF_CRM_CITY", "Бюджет", "OPPORTUNITY", "Telegram", "IM"), "bot-42"), config);
    assertEquals(List.of("Город", "Бюджет", "Telegram"), List.copyOf(config.fieldMap().keySet()),
        "the field map keeps the order it was written in");
  }

  @Test
  void valuesFromEnvironmentVariablesArriveAsTextAndAreAccepted() {
    MappingConfig config = parse("{\"assignedById\":\" 5 \",\"opened\":\"n\",\"registerSonetEvent\":\"Y\","
        + "\"phoneType\":\"mobile\",\"sourceId\":\" CALL \"}");

    assertEquals(5, config.assignedById());
    assertEquals("N", config.opened());
    assertTrue(config.registerSonetEvent());
    assertEquals("MOBILE", config.phoneValueType());
    assertEquals("CALL", config.sourceId());
  }

  @Test
  void openedAcceptsBooleansAndYesNo() {
    assertEquals("N", parse("{\"opened\":false}").opened());
    assertEquals("Y", parse("{\"opened\":\"Y\"}").opened());
  }

  @Test
  void aWholeNumberWrittenWithAFractionIsStillAUserId() {
    assertEquals(3, parse("{\"assignedById\":3.0}").assignedById());
  }

  @Test
  void extraSystemFieldsAddToTheDefaultList() {
    List<String> systemFields = parse("{\"extraSystemFields\":[\"Служебное\",\"cuid\"]}").systemFields();

    assertTrue(systemFields.containsAll(MappingConfig.DEFAULT_SYSTEM_FIELDS));
    assertTrue(systemFields.contains("Служебное"));
    assertEquals(MappingConfig.DEFAULT_SYSTEM_FIELDS.size() + 1, systemFields.size(), "no duplicates");
  }

  @Test
  void systemFieldsReplaceTheDefaultList() {
    assertEquals(List.of("cuid"), parse("{\"systemFields\":[\"cuid\"]}").systemFields());
    assertEquals(List.of(), parse("{\"systemFields\":[]}").systemFields());
  }

  @Test
  void blankOptionalTextsMeanNotSetAndABlankTitleMeansTheDefault() {
    MappingConfig config = parse("{\"sourceDescription\":\" \",\"statusId\":\"\",\"title\":\"  \"}");

    assertNull(config.sourceDescription());
    assertNull(config.statusId());
    assertEquals(MappingConfig.DEFAULT_TITLE, config.titleTemplate());
  }

  @Test
  void nullKeepsTheDefault() {
    assertEquals(MappingConfig.defaults(), parse("{\"title\":null,\"assignedById\":null,\"fieldMap\":null}"));
  }

  @Test
  void theExampleErrorReadsExactlyAsDocumented() {
    assertEquals("integrations.default.mapping.assignedById must be a positive whole number, got \"abc\".",
        error("{\"assignedById\":\"abc\"}"));
  }

  @Test
  void anUnknownKeyIsNamedWithTheKeysThatExist() {
    String error = error("{\"titel\":\"x\"}");

    assertTrue(error.startsWith("integrations.default.mapping.titel is not a known mapping key"), error);
    assertTrue(error.contains("title, phoneType, emailType"), error);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "{\"title\":5}                                | title              | got 5.",
      "{\"phoneType\":\"CELL\"}                     | phoneType          | must be one of WORK, MOBILE, FAX, HOME, PAGER, MAILING, OTHER, got \"CELL\".",
      "{\"emailType\":\"MOBILE\"}                   | emailType          | must be one of WORK, HOME, MAILING, OTHER, got \"MOBILE\".",
      "{\"phoneType\":1}                            | phoneType          | got 1.",
      "{\"assignedById\":0}                         | assignedById       | must be a positive whole number, got 0.",
      "{\"assignedById\":-3}                        | assignedById       | got -3.",
      "{\"assignedById\":1.5}                       | assignedById       | got 1.5.",
      "{\"assignedById\":\"5.0\"}                   | assignedById       | got \"5.0\".",
      "{\"assignedById\":3000000000}                | assignedById       | got 3000000000.",
      "{\"assignedById\":true}                      | assignedById       | got true.",
      "{\"sourceId\":\"\"}                          | sourceId           | must be a non-empty text, got \"\".",
      "{\"sourceId\":5}                             | sourceId           | got 5.",
      "{\"sourceDescription\":5}                    | sourceDescription  | must be a text, got 5.",
      "{\"statusId\":[]}                            | statusId           | got [].",
      "{\"opened\":\"maybe\"}                       | opened             | must be true, false, \"Y\" or \"N\", got \"maybe\".",
      "{\"registerSonetEvent\":\"sometimes\"}       | registerSonetEvent | must be true or false, got \"sometimes\".",
      "{\"registerSonetEvent\":1}                   | registerSonetEvent | got 1.",
      "{\"systemFields\":\"cuid\"}                  | systemFields       | must be a list of payload keys, got \"cuid\".",
      "{\"systemFields\":[\"cuid\",1]}              | systemFields[1]    | got 1.",
      "{\"extraSystemFields\":[\"\"]}               | extraSystemFields[0] | got \"\".",
      "{\"fieldMap\":[]}                            | fieldMap           | must be an object of payload key to Bitrix24 field, got [].",
      "{\"fieldMap\":{\"Город\":\"uf_crm_city\"}}   | fieldMap.Город     | must be a Bitrix24 field name in capitals, digits and _ (e.g. UF_CRM_CITY), got \"uf_crm_city\".",
      "{\"fieldMap\":{\"Город\":5}}                 | fieldMap.Город     | got 5.",
      "{\"fieldMap\":{\"Номер\":\"ORIGIN_ID\"}}     | fieldMap.Номер     | cannot be mapped to ORIGIN_ID",
      "{\"originatorId\":\"  \"}                    | originatorId       | must be a non-empty text, got \"  \".",
      "{\"phoneRegion\":\"RUS\"}                    | phoneRegion        | must be a two-letter country code such as RU, KZ or BY, got \"RUS\".",
      "{\"phoneRegion\":7}                          | phoneRegion        | got 7.",
      "{\"phoneFormat\":\"national\"}               | phoneFormat        | must be e164 or original, got \"national\".",
  })
  void everyErrorIsOneSentenceNamingTheFullKey(String json, String key, String detail) {
    String error = error(json);

    assertTrue(error.startsWith(PATH + "." + key + " "), error);
    assertTrue(error.contains(detail), error);
    assertTrue(error.endsWith("."), error);
    assertFalse(error.contains("\n"), error);
  }

  @Test
  void phonesAreReadInRussiaAndSentInE164UnlessConfiguredOtherwise() {
    assertEquals("RU", MappingConfig.defaults().phoneRegion());
    assertEquals(PhoneNormaliser.Format.E164, MappingConfig.defaults().phoneFormat());
    MappingConfig config = parse("{\"phoneRegion\":\" kz \",\"phoneFormat\":\"ORIGINAL\"}");
    assertEquals("KZ", config.phoneRegion());
    assertEquals(PhoneNormaliser.Format.ORIGINAL, config.phoneFormat());
    assertEquals(MappingConfig.defaults(), parse("{\"phoneRegion\":\"\",\"phoneFormat\":\"\"}"));
  }

  @Test
  void aLongOffendingValueIsCutShort() {
    String error = error("{\"phoneType\":\"" + "X".repeat(500) + "\"}");

    assertTrue(error.length() < 200, error);
    assertTrue(error.endsWith("…\"."), error);
  }

  private static MappingConfig parse(String json) {
    return MappingConfig.fromJson(new JsonObject(json), PATH);
  }

  private static String error(String json) {
    return assertThrows(ConfigException.class, () -> parse(json)).getMessage();
  }
}
