package io.leadrelay.mapping;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeadFieldGuardTest {

  private static JsonArray rows(String... values) {
    JsonArray rows = new JsonArray();
    for (String value : values) {
      rows.add(new JsonObject().put("VALUE", value).put("VALUE_TYPE", "WORK"));
    }
    return rows;
  }

  private static JsonObject lead() {
    return new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", "Иван");
  }

  @Test
  void aTextThatIsNoEmailMovesToCommentsAndTheLeadKeepsEverythingElse() {
    JsonObject fields = lead().put("PHONE", rows("+79990001122")).put("EMAIL", rows("нет, пишите в телеграм"))
        .put("COMMENTS", "Город: Казань");

    JsonObject guarded = LeadFieldGuard.guard(fields);

    assertFalse(guarded.containsKey("EMAIL"));
    assertEquals(rows("+79990001122"), guarded.getJsonArray("PHONE"));
    assertEquals("Город: Казань\nE-mail (не сохранено в поле, неверный формат): нет, пишите в телеграм",
        guarded.getString("COMMENTS"));
    assertEquals("Город: Казань", fields.getString("COMMENTS"), "the input is not changed");
  }

  @Test
  void onlyTheBadRowOfAMultiFieldMoves() {
    JsonObject guarded = LeadFieldGuard.guard(lead().put("EMAIL", rows("ivan@mail", "ivan@mail.ru")));

    assertEquals(rows("ivan@mail.ru"), guarded.getJsonArray("EMAIL"));
    assertEquals("E-mail (не сохранено в поле, неверный формат): ivan@mail", guarded.getString("COMMENTS"));
  }

  @Test
  void emailCheckFollowsBitrix24() {
    for (String good : List.of("ivan@mail.ru", "i.van+tag@sub.mail.example", "Иван <ivan@mail.ru>",
        " ivan@mail.ru ", "o'brien@example.com", "x@example.co")) {
      assertTrue(LeadFieldGuard.isEmail(good), good);
    }
    for (String bad : List.of("ivan@mail", "нет, пишите в телеграм", "ivan", "@mail.ru", "ivan@@mail.ru",
        ".ivan@mail.ru", "ivan.@mail.ru", "iv an@mail.ru", "ivan@mail.r", "ivan@mail.abcdefghijklmnopqrstu",
        "a".repeat(320) + "@mail.ru", "иван@почта.рф")) {
      assertFalse(LeadFieldGuard.isEmail(bad), bad);
    }
  }

  @Test
  void anEmptyEmailRowIsNotAnError() {
    JsonObject guarded = LeadFieldGuard.guard(lead().put("EMAIL", rows("")));
    assertEquals(rows(""), guarded.getJsonArray("EMAIL"));
    assertNull(guarded.getString("COMMENTS"));
  }

  @Test
  void multiFieldValuesOver250CharactersMoveWhicheverFieldTheyAreIn() {
    String exactly250 = "я".repeat(250);
    String tooLong = "😀".repeat(251);
    JsonObject guarded = LeadFieldGuard.guard(lead().put("PHONE", rows(exactly250, tooLong))
        .put("WEB", rows("https://example.com/" + "x".repeat(240))).put("IM", rows("@ivan")));

    assertEquals(rows(exactly250), guarded.getJsonArray("PHONE"), "250 characters (not bytes) are allowed");
    assertFalse(guarded.containsKey("WEB"));
    assertEquals(rows("@ivan"), guarded.getJsonArray("IM"));
    assertEquals("Телефон (не сохранено в поле, длиннее 250 символов): " + tooLong
        + "\nСайт (не сохранено в поле, длиннее 250 символов): https://example.com/" + "x".repeat(240),
        guarded.getString("COMMENTS"));
  }

  @Test
  void amountsAreNormalisedAsBitrix24ReadsThem() {
    Map<Object, Object> accepted = Map.of(
        "9 000", "9000", "9000,50", "9000.50", "9\u00a0000", "9000", " 12 ", "12", ",5", "0.5", "9000", "9000",
        9000, 9000, 12.5, 12.5, new BigDecimal("1.50"), new BigDecimal("1.50"));
    accepted.forEach((input, expected) ->
        assertEquals(expected, LeadFieldGuard.guard(lead().put("OPPORTUNITY", input)).getValue("OPPORTUNITY"),
            String.valueOf(input)));
  }

  @Test
  void anAmountThatIsNoNumberMovesToComments() {
    for (String bad : List.of("9000 руб", "2 млн.", "1,000.50", "-5", "девять тысяч", "9e3")) {
      JsonObject guarded = LeadFieldGuard.guard(lead().put("OPPORTUNITY", bad));
      assertFalse(guarded.containsKey("OPPORTUNITY"), bad);
      assertEquals("Сумма (не сохранено в поле, не число): " + bad, guarded.getString("COMMENTS"));
    }
  }

  @Test
  void aNegativeJsonNumberIsNoAmountEitherSinceTheBatchSendsItAsText() {
    // In a batch every value reaches the portal as text: -5 arrives as "-5", refused like the text "-5" above.
    for (Object bad : List.of(-5, -0.5, new BigDecimal("-1.50"))) {
      JsonObject guarded = LeadFieldGuard.guard(lead().put("OPPORTUNITY", bad));
      assertFalse(guarded.containsKey("OPPORTUNITY"), String.valueOf(bad));
      assertEquals("Сумма (не сохранено в поле, не число): " + bad, guarded.getString("COMMENTS"));
    }
    assertEquals(0, LeadFieldGuard.guard(lead().put("OPPORTUNITY", 0)).getValue("OPPORTUNITY"));
  }

  @Test
  void idsMustBeWholeNumbers() {
    assertEquals(7, LeadFieldGuard.guard(lead().put("ASSIGNED_BY_ID", 7)).getValue("ASSIGNED_BY_ID"));
    assertEquals("12", LeadFieldGuard.guard(lead().put("COMPANY_ID", " 12 ")).getValue("COMPANY_ID"));
    JsonObject guarded = LeadFieldGuard.guard(lead().put("CONTACT_ID", "Пётр"));
    assertFalse(guarded.containsKey("CONTACT_ID"));
    assertEquals("Контакт (не сохранено в поле, не номер записи): Пётр", guarded.getString("COMMENTS"));
  }

  @Test
  void datesAreSentAsIso8601OrMovedToComments() {
    assertEquals("1990-01-31", LeadFieldGuard.guard(lead().put("BIRTHDATE", "31.01.1990")).getString("BIRTHDATE"));
    assertEquals("1990-01-31", LeadFieldGuard.guard(lead().put("BIRTHDATE", "1990-01-31")).getString("BIRTHDATE"));
    assertEquals("1990-01-31T10:00:00+03:00",
        LeadFieldGuard.guard(lead().put("BIRTHDATE", "1990-01-31T10:00:00+03:00")).getString("BIRTHDATE"));
    for (String bad : List.of("31.02.1990", "вчера", "1990-13-01", "31/01/1990")) {
      JsonObject guarded = LeadFieldGuard.guard(lead().put("BIRTHDATE", bad));
      assertFalse(guarded.containsKey("BIRTHDATE"), bad);
      assertEquals("Дата рождения (не сохранено в поле, неверная дата): " + bad, guarded.getString("COMMENTS"));
    }
  }

  @Test
  void customAndTextFieldsAreLeftAsTheyAre() {
    JsonObject fields = lead().put("UF_CRM_1712345678", "что угодно").put("LAST_NAME", "x".repeat(300))
        .put("COMMENTS", "a");
    assertEquals(fields, LeadFieldGuard.guard(fields));
  }

  @Test
  void severalNotesKeepTheOrderOfTheFields() {
    JsonObject guarded = LeadFieldGuard.guard(lead().put("EMAIL", rows("ivan@mail")).put("OPPORTUNITY", "2 млн."));
    assertEquals("E-mail (не сохранено в поле, неверный формат): ivan@mail\n"
        + "Сумма (не сохранено в поле, не число): 2 млн.", guarded.getString("COMMENTS"));
  }

  @Test
  void theRetryMovesEveryCheckedOrUnknownFieldAndKeepsTheRest() {
    JsonObject fields = lead().put("PHONE", rows("+7999")).put("EMAIL", rows("a@b.ru")).put("UTM_SOURCE", "vk")
        .put("OPPORTUNITY", "100").put("UF_CRM_1", "x").put("ASSIGNED_BY_ID", 1).put("COMMENTS", "Город: Казань")
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-1");

    JsonObject retry = LeadFieldGuard.withoutCheckedFields(fields);

    assertEquals(lead().put("UTM_SOURCE", "vk").put("ASSIGNED_BY_ID", 1)
        .put("COMMENTS", "Город: Казань\n"
            + "Телефон (не сохранено в поле, Bitrix24 не принял лид с этим полем): +7999\n"
            + "E-mail (не сохранено в поле, Bitrix24 не принял лид с этим полем): a@b.ru\n"
            + "Сумма (не сохранено в поле, Bitrix24 не принял лид с этим полем): 100\n"
            + "UF_CRM_1 (не сохранено в поле, Bitrix24 не принял лид с этим полем): x")
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", "d-1"), retry);
    assertNull(LeadFieldGuard.withoutCheckedFields(retry), "a second retry could not change anything");
  }

  @Test
  void theMapperAppliesTheGuardSoThePreviewShowsIt() {
    LeadMapper mapper = new LeadMapper(new MappingConfig(MappingConfig.DEFAULT_TITLE, "WORK", "WORK", 1, "WEB",
        null, null, null, true, MappingConfig.DEFAULT_SYSTEM_FIELDS, Map.of("budget", "OPPORTUNITY"), "leadrelay"));
    JsonObject fields = mapper.fields(new JsonObject().put("name", "Иван").put("email", "ivan@mail")
        .put("budget", "9 000"), "d-1");
    assertEquals("9000", fields.getString("OPPORTUNITY"));
    assertFalse(fields.containsKey("EMAIL"));
    assertEquals("E-mail (не сохранено в поле, неверный формат): ivan@mail", fields.getString("COMMENTS"));
    assertEquals(List.of("TITLE", "NAME", "ASSIGNED_BY_ID", "SOURCE_ID", "OPPORTUNITY", "COMMENTS",
        "ORIGINATOR_ID", "ORIGIN_ID"), List.copyOf(fields.fieldNames()));
  }
}
