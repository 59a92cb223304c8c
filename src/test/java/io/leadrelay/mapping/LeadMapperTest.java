package io.leadrelay.mapping;

import io.leadrelay.store.Delivery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeadMapperTest {

  private static final String DELIVERY_ID = "d-0001";

  private final LeadMapper defaults = new LeadMapper(MappingConfig.defaults());

  @Test
  void seedExampleBecomesExactlyTheLeadTheSeedScriptCreated() throws IOException {
    JsonObject expected = resource("seed-example.expected-lead.json")
        .put("ORIGINATOR_ID", "leadrelay")
        .put("ORIGIN_ID", DELIVERY_ID);
    // The one difference from the seed script: the phone goes in E.164 (the seed sent "79999999999" as typed),
    // so that Bitrix24's duplicate search can match it.

    JsonObject fields = defaults.fields(resource("seed-example.json"), DELIVERY_ID);

    assertEquals(expected, fields);
    assertEquals("Бюджет: 9000\nТип продукта: МАРКАТЕСТ\nпожелания: ПОЖЕЛАНИЯТЕСТ\nстрана: Япония🇯🇵",
        fields.getString("COMMENTS"));
    assertEquals(List.of("TITLE", "NAME", "PHONE", "EMAIL", "UTM_SOURCE", "UTM_CAMPAIGN", "ASSIGNED_BY_ID",
        "SOURCE_ID", "COMMENTS", "ORIGINATOR_ID", "ORIGIN_ID"), keys(fields));
    assertEquals(new JsonObject().put("REGISTER_SONET_EVENT", "Y"), defaults.params());
  }

  @Test
  void capturedSampleKeepsOnlyTheBotsOwnFieldsInComments() throws IOException {
    JsonObject fields = defaults.fields(resource("captured-sample.json"), DELIVERY_ID);

    assertEquals("Новый лид из BotHelp", fields.getString("TITLE"));
    assertEquals("Петров | Инвестиции Алексей", fields.getString("NAME"));
    assertEquals(multi("3", "WORK"), fields.getJsonArray("PHONE"));
    assertFalse(fields.containsKey("EMAIL"), "a blank email is not sent");
    assertTrue(keys(fields).stream().noneMatch(key -> key.startsWith("UTM_")), "blank UTM tags are not sent");
    assertEquals("Комментарии: .\nФонд_Ранг: 3\nФонд_ставка_текст: 20%\nФонд_сумма: 123\nФонд_сумма_текст: 2 млн."
        + "\nТелефон (не распознан как номер, сохранён как введён): 3", fields.getString("COMMENTS"));
  }

  @Test
  void nameFallsBackStepByStepSoThatTheLeadAlwaysHasOne() {
    assertEquals("ИМЯ", name("{\"name\":\"  ИМЯ  \",\"first_name\":\"Anton\"}"));
    assertEquals("Anton R", name("{\"name\":\" \",\"first_name\":\"Anton\",\"last_name\":\"R\"}"));
    assertEquals("Anton", name("{\"name\":null,\"first_name\":\" Anton \",\"last_name\":\"\"}"));
    assertEquals("R", name("{\"first_name\":\"\",\"last_name\":\"R\"}"));
    assertEquals("apetrov_tg", name("{\"name\":\"\",\"first_name\":\"\",\"messenger_username\":\"apetrov_tg\"}"));
    assertEquals("BotHelp 487", name("{\"name\":\"\",\"messenger_username\":\" \",\"bothelp_user_id\":487}"));
    assertEquals("BotHelp", name("{\"name\":\"\"}"));
    assertEquals("BotHelp", name("{}"));
  }

  @Test
  void commentValuesReadAsTheyWereWritten() {
    JsonObject payload = new JsonObject()
        .put("int", 9000)
        .put("long", 79991234567L)
        .put("decimal", new BigDecimal("1.50"))
        .put("huge", new BigInteger("123456789012345678901234567890"))
        .put("whole double", 5.0)
        .put("double", 2.75)
        .put("yes", true)
        .put("no", false)
        .put("nothing", null)
        .put("blank", "   ")
        .put("empty object", new JsonObject())
        .put("empty array", new JsonArray())
        .put("object", new JsonObject().put("a", 1).put("b", "x"))
        .put("array", new JsonArray().add(1).add("два"))
        .put("padded", "  text  ");

    assertEquals(String.join("\n",
        "int: 9000",
        "long: 79991234567",
        "decimal: 1.50",
        "huge: 123456789012345678901234567890",
        "whole double: 5",
        "double: 2.75",
        "yes: true",
        "no: false",
        "object: {\"a\":1,\"b\":\"x\"}",
        "array: [1,\"два\"]",
        "padded: text"), comments(defaults, payload));
  }

  @Test
  void parsedJsonNumbersReadWithoutAnAddedFraction() {
    JsonObject payload = new JsonObject("{\"a\":1e3,\"b\":0.1,\"c\":12345678901234567890,\"d\":1.0E7}");

    assertEquals("a: 1000\nb: 0.1\nc: 12345678901234567890\nd: 10000000", comments(defaults, payload));
  }

  @Test
  void noCommentsKeyWhenNothingIsLeftForComments() {
    JsonObject fields = defaults.fields(
        new JsonObject("{\"name\":\"A\",\"phone\":\"+79991234567\",\"cuid\":\"x\",\"Пусто\":\"\",\"Ничего\":null}"), DELIVERY_ID);

    assertFalse(fields.containsKey("COMMENTS"));
  }

  @Test
  void commentsFollowThePayloadOrderWithCyrillicEmojiAndSpacesInKeys() {
    JsonObject payload = new JsonObject(
        "{\"Ямы 🕳 на дороге\":\"много\",\"a\":\"1\",\"Любимый цвет 🎨\":\"синий\",\"  spaced key \":\"v\"}");

    assertEquals("Ямы 🕳 на дороге: много\na: 1\nЛюбимый цвет 🎨: синий\n  spaced key : v",
        comments(defaults, payload));
  }

  @Test
  void phoneAndEmailAreTrimmedMultiFieldsOfTheConfiguredType() {
    LeadMapper mapper = mapper("{\"phoneType\":\"MOBILE\",\"emailType\":\"HOME\"}");

    JsonObject fields = mapper.fields(new JsonObject("{\"phone\":\" +7 999 123-45-67 \",\"email\":\" a@b.cc \"}"),
        DELIVERY_ID);

    assertEquals(multi("+79991234567", "MOBILE"), fields.getJsonArray("PHONE"));
    assertEquals(multi("a@b.cc", "HOME"), fields.getJsonArray("EMAIL"));
  }

  @Test
  void numericPhoneIsSentAsText() {
    JsonObject fields = defaults.fields(new JsonObject("{\"phone\":79999999999}"), DELIVERY_ID);

    assertEquals(multi("+79999999999", "WORK"), fields.getJsonArray("PHONE"));
  }

  @Test
  void everyUtmTagHasItsLeadField() {
    JsonObject fields = defaults.fields(new JsonObject("{\"utm_term\":\"t\",\"utm_source\":\" s \",\"utm_medium\":\"m\","
        + "\"utm_campaign\":\"c\",\"utm_content\":\"x\"}"), DELIVERY_ID);

    assertEquals("s", fields.getString("UTM_SOURCE"));
    assertEquals("m", fields.getString("UTM_MEDIUM"));
    assertEquals("c", fields.getString("UTM_CAMPAIGN"));
    assertEquals("x", fields.getString("UTM_CONTENT"));
    assertEquals("t", fields.getString("UTM_TERM"));
    assertEquals(List.of("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM"),
        keys(fields).subList(2, 7));
    assertFalse(fields.containsKey("COMMENTS"));
  }

  @Test
  void fieldMapSendsPlainValuesAsTheyAreAndTakesThemOutOfComments() {
    LeadMapper mapper = mapper("{\"fieldMap\":{\"Бюджет\":\"OPPORTUNITY\",\"Город\":\"UF_CRM_CITY\","
        + "\"bothelp_user_id\":\"UF_CRM_BOTHELP_ID\"}}");

    JsonObject fields = mapper.fields(new JsonObject(
        "{\"bothelp_user_id\":487,\"Бюджет\":9000,\"Город\":\" Казань \",\"Пожелания\":\"тишина\"}"), DELIVERY_ID);

    assertEquals(9000, fields.getValue("OPPORTUNITY"));
    assertEquals("Казань", fields.getString("UF_CRM_CITY"));
    assertEquals(487, fields.getValue("UF_CRM_BOTHELP_ID"), "a system field can still be mapped");
    assertEquals("Пожелания: тишина", fields.getString("COMMENTS"));
    assertEquals(List.of("TITLE", "NAME", "ASSIGNED_BY_ID", "SOURCE_ID", "UF_CRM_BOTHELP_ID", "OPPORTUNITY",
        "UF_CRM_CITY", "COMMENTS", "ORIGINATOR_ID", "ORIGIN_ID"), keys(fields));
  }

  @Test
  void fieldMapAppendsRowsToMultiFields() {
    LeadMapper mapper = mapper("{\"phoneType\":\"MOBILE\",\"emailType\":\"HOME\",\"fieldMap\":{"
        + "\"Второй телефон\":\"PHONE\",\"Рабочая почта\":\"EMAIL\",\"Telegram\":\"IM\",\"Сайт\":\"WEB\"}}");

    JsonObject fields = mapper.fields(new JsonObject("{\"phone\":\"89991112233\",\"Второй телефон\":\" +7 999 222 33 44 \","
        + "\"Рабочая почта\":\"w@x.yz\",\"Telegram\":\"@anton\",\"Сайт\":\"https://example.com\"}"), DELIVERY_ID);

    assertEquals(new JsonArray()
        .add(row("+79991112233", "MOBILE"))
        .add(row("+79992223344", "MOBILE")), fields.getJsonArray("PHONE"));
    assertEquals(multi("w@x.yz", "HOME"), fields.getJsonArray("EMAIL"));
    assertEquals(multi("@anton", "OTHER"), fields.getJsonArray("IM"));
    assertEquals(multi("https://example.com", "OTHER"), fields.getJsonArray("WEB"));
    assertFalse(fields.containsKey("COMMENTS"));
  }

  @Test
  void fieldMapOverridesDefaultFieldsInPlace() {
    LeadMapper mapper = mapper("{\"fieldMap\":{\"Источник\":\"SOURCE_ID\",\"Заголовок\":\"TITLE\","
        + "\"Менеджер\":\"ASSIGNED_BY_ID\"}}");

    JsonObject fields = mapper.fields(new JsonObject(
        "{\"Источник\":\"UC_TELEGRAM\",\"Заголовок\":\"Заявка с сайта\",\"Менеджер\":7}"), DELIVERY_ID);

    assertEquals("UC_TELEGRAM", fields.getString("SOURCE_ID"));
    assertEquals("Заявка с сайта", fields.getString("TITLE"));
    assertEquals(7, fields.getValue("ASSIGNED_BY_ID"));
    assertEquals(List.of("TITLE", "NAME", "ASSIGNED_BY_ID", "SOURCE_ID", "ORIGINATOR_ID", "ORIGIN_ID"), keys(fields));
  }

  @Test
  void blankMappedValuesAreNotSentAndOverrideNothing() {
    LeadMapper mapper = mapper("{\"fieldMap\":{\"Город\":\"UF_CRM_CITY\",\"Источник\":\"SOURCE_ID\","
        + "\"Телефон\":\"PHONE\",\"Список\":\"UF_CRM_LIST\"}}");

    JsonObject fields = mapper.fields(new JsonObject(
        "{\"Город\":\"  \",\"Источник\":null,\"Телефон\":\"\",\"Список\":[]}"), DELIVERY_ID);

    assertFalse(fields.containsKey("UF_CRM_CITY"));
    assertFalse(fields.containsKey("UF_CRM_LIST"));
    assertFalse(fields.containsKey("PHONE"));
    assertEquals("WEB", fields.getString("SOURCE_ID"));
    assertFalse(fields.containsKey("COMMENTS"), "a mapped key stays out of COMMENTS even when blank");
  }

  @Test
  void aFieldMapCannotTakeOverTheDeliveryIdentity() {
    LeadMapper mapper = new LeadMapper(withFieldMap(Map.of("Хитрость", "ORIGIN_ID", "Ещё", "ORIGINATOR_ID")));

    JsonObject fields = mapper.fields(new JsonObject("{\"Хитрость\":\"x\",\"Ещё\":\"y\"}"), DELIVERY_ID);

    assertEquals("leadrelay", fields.getString("ORIGINATOR_ID"));
    assertEquals(DELIVERY_ID, fields.getString("ORIGIN_ID"));
  }

  @Test
  void aValueMappedToCommentsLeadsTheComments() {
    LeadMapper mapper = mapper("{\"fieldMap\":{\"Комментарий\":\"COMMENTS\"}}");

    assertEquals("Позвонить вечером\nГород: Казань", mapper.fields(new JsonObject(
        "{\"Город\":\"Казань\",\"Комментарий\":\" Позвонить вечером \"}"), DELIVERY_ID).getString("COMMENTS"));
    assertEquals("Город: Казань", mapper.fields(new JsonObject(
        "{\"Город\":\"Казань\",\"Комментарий\":\"\"}"), DELIVERY_ID).getString("COMMENTS"));
  }

  @Test
  void defaultSystemFieldsNeverReachComments() {
    JsonObject payload = new JsonObject();
    MappingConfig.DEFAULT_SYSTEM_FIELDS.forEach(key -> payload.put(key, "value of " + key));
    payload.put("Своё поле", "да");

    assertEquals("Своё поле: да", comments(defaults, payload));
  }

  @Test
  void systemFieldsCanBeReplaced() {
    LeadMapper mapper = mapper("{\"systemFields\":[\"cuid\",\"Служебное\"]}");

    assertEquals("created_at: 1717259362", comments(mapper,
        new JsonObject("{\"cuid\":\"6u3t.dj\",\"Служебное\":\"x\",\"created_at\":1717259362}")));
  }

  @Test
  void systemFieldsCanBeExtended() {
    LeadMapper mapper = mapper("{\"extraSystemFields\":[\"Служебное\"]}");

    assertEquals("Своё: y", comments(mapper,
        new JsonObject("{\"cuid\":\"6u3t.dj\",\"Служебное\":\"x\",\"created_at\":1717259362,\"Своё\":\"y\"}")));
  }

  @Test
  void titleTemplateFillsInPayloadValues() {
    LeadMapper mapper = mapper("{\"title\":\"Заявка: {Тип продукта} 🚀 {Город} #{bothelp_user_id}\"}");

    assertEquals("Заявка: МАРКА 🚀 Казань #487", mapper.fields(new JsonObject(
        "{\"Тип продукта\":\"МАРКА\",\"Город\":\" Казань \",\"bothelp_user_id\":487}"), DELIVERY_ID)
        .getString("TITLE"));
  }

  @Test
  void titleTemplateRendersMissingKeysAsEmptyAndNeverLeavesTheTitleBlank() {
    LeadMapper mapper = mapper("{\"title\":\"{Тип продукта} {Город}\"}");

    assertEquals("Казань", mapper.fields(new JsonObject("{\"Город\":\"Казань\"}"), DELIVERY_ID).getString("TITLE"));
    assertEquals(MappingConfig.DEFAULT_TITLE, mapper.fields(new JsonObject("{\"Город\":\" \"}"), DELIVERY_ID)
        .getString("TITLE"));
  }

  @Test
  void titleTemplateKeepsAnUnclosedBraceAsText() {
    LeadMapper mapper = mapper("{\"title\":\"Лид {name} {без конца\"}");

    assertEquals("Лид Анна {без конца", mapper.fields(new JsonObject("{\"name\":\"Анна\"}"), DELIVERY_ID)
        .getString("TITLE"));
  }

  @Test
  void everyLeadCarriesTheRelayAndTheDeliveryAsItsOrigin() {
    LeadMapper mapper = mapper("{\"originatorId\":\"bot-42\"}");
    Instant receivedAt = Instant.parse("2024-06-01T16:29:22Z");
    Delivery delivery = new Delivery("d-42", "shop", receivedAt, "10.0.0.1", new JsonObject("{\"name\":\"Анна\"}"));

    LeadCommand command = mapper.map(delivery);

    assertEquals("d-42", command.deliveryId());
    assertEquals("shop", command.integration());
    assertEquals(receivedAt, command.receivedAt());
    assertEquals("bot-42", command.fields().getString("ORIGINATOR_ID"));
    assertEquals("d-42", command.fields().getString("ORIGIN_ID"));
    assertEquals("Анна", command.fields().getString("NAME"));
    assertEquals(new JsonObject().put("REGISTER_SONET_EVENT", "Y"), command.params());
  }

  @Test
  void configuredLeadFieldsAppearInTheirPlace() {
    LeadMapper mapper = mapper("{\"assignedById\":17,\"sourceId\":\"CALL\",\"sourceDescription\":\"Бот в Telegram\","
        + "\"statusId\":\"IN_PROCESS\",\"opened\":false,\"registerSonetEvent\":false,"
        + "\"fieldMap\":{\"Город\":\"UF_CRM_CITY\"}}");

    JsonObject fields = mapper.fields(new JsonObject(
        "{\"name\":\"Анна\",\"phone\":\"1\",\"email\":\"a@b.cc\",\"utm_source\":\"vk\",\"Город\":\"Казань\","
            + "\"Бюджет\":1}"), DELIVERY_ID);

    assertEquals(17, fields.getValue("ASSIGNED_BY_ID"));
    assertEquals("CALL", fields.getString("SOURCE_ID"));
    assertEquals("Бот в Telegram", fields.getString("SOURCE_DESCRIPTION"));
    assertEquals("IN_PROCESS", fields.getString("STATUS_ID"));
    assertEquals("N", fields.getString("OPENED"));
    assertEquals(List.of("TITLE", "NAME", "PHONE", "EMAIL", "UTM_SOURCE", "ASSIGNED_BY_ID", "SOURCE_ID",
        "SOURCE_DESCRIPTION", "STATUS_ID", "OPENED", "UF_CRM_CITY", "COMMENTS", "ORIGINATOR_ID", "ORIGIN_ID"),
        keys(fields));
    assertEquals(new JsonObject().put("REGISTER_SONET_EVENT", "N"), mapper.params());
  }

  @Test
  void optionalLeadFieldsAreAbsentUnlessConfigured() {
    JsonObject fields = defaults.fields(new JsonObject(), DELIVERY_ID);

    assertNull(fields.getValue("SOURCE_DESCRIPTION"));
    assertNull(fields.getValue("STATUS_ID"));
    assertNull(fields.getValue("OPENED"));
    assertEquals(List.of("TITLE", "NAME", "ASSIGNED_BY_ID", "SOURCE_ID", "ORIGINATOR_ID", "ORIGIN_ID"), keys(fields));
  }

  @Test
  void anyJsonObjectMapsToALead() {
    LeadMapper mapper = mapper("{\"title\":\"{name}{phone}{x}\",\"fieldMap\":{\"x\":\"PHONE\",\"y\":\"UF_CRM_Y\"}}");
    JsonObject odd = new JsonObject()
        .put("name", new JsonObject().put("first", "A"))
        .put("first_name", 1)
        .put("phone", new JsonArray().add(1).add(2))
        .put("email", true)
        .put("utm_source", 3.5)
        .put("x", new JsonObject().put("deep", new JsonArray().add(new JsonObject())))
        .put("y", false)
        .put("z", Instant.parse("2024-06-01T00:00:00Z"))
        .put("bytes", new byte[] {1, 2});

    JsonObject fields = mapper.fields(odd, DELIVERY_ID);

    assertEquals("{\"first\":\"A\"}", fields.getString("NAME"));
    assertEquals(multi("[1,2]", "WORK").add(row("{\"deep\":[{}]}", "WORK")), fields.getJsonArray("PHONE"));
    assertFalse(fields.containsKey("EMAIL"), "Bitrix24 would refuse the lead for an e-mail of true");
    assertEquals("3.5", fields.getString("UTM_SOURCE"));
    assertEquals(false, fields.getValue("UF_CRM_Y"));
    assertTrue(fields.getString("COMMENTS").startsWith("z: 2024-06-01T00:00:00Z\nbytes: "));
    assertTrue(fields.getString("COMMENTS").endsWith("\nE-mail (не сохранено в поле, неверный формат): true"));
    assertNotNull(defaults.fields(null, null).getString("NAME"));
    assertFalse(defaults.fields(null, null).containsKey("ORIGIN_ID"));
  }

  private String name(String payload) {
    return defaults.fields(new JsonObject(payload), DELIVERY_ID).getString("NAME");
  }

  private static String comments(LeadMapper mapper, JsonObject payload) {
    return mapper.fields(payload, DELIVERY_ID).getString("COMMENTS");
  }

  private static LeadMapper mapper(String mappingJson) {
    return new LeadMapper(MappingConfig.fromJson(new JsonObject(mappingJson), "test.mapping"));
  }

  /** A config built directly, bypassing the reader's checks, as code elsewhere could. */
  private static MappingConfig withFieldMap(Map<String, String> fieldMap) {
    MappingConfig d = MappingConfig.defaults();
    return new MappingConfig(d.titleTemplate(), d.phoneValueType(), d.emailValueType(), d.assignedById(),
        d.sourceId(), d.sourceDescription(), d.statusId(), d.opened(), d.registerSonetEvent(),
        d.systemFields(), fieldMap, d.originatorId());
  }

  private static JsonArray multi(String value, String type) {
    return new JsonArray().add(row(value, type));
  }

  private static JsonObject row(String value, String type) {
    return new JsonObject().put("VALUE", value).put("VALUE_TYPE", type);
  }

  private static List<String> keys(JsonObject json) {
    return new ArrayList<>(json.fieldNames());
  }

  private static JsonObject resource(String name) throws IOException {
    try (InputStream in = LeadMapperTest.class.getResourceAsStream("/" + name)) {
      assertNotNull(in, name + " is on the test classpath");
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }
}
