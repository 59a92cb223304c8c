package io.leadrelay.bitrix;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchEncoderTest {

  private final BatchEncoder encoder = new BatchEncoder();

  /** The query of a command holding {@code fields: {key: value}}, i.e. what follows {@code crm.lead.add?}. */
  private String fieldQuery(String key, Object value) {
    String command = encoder.command("crm.lead.add", new JsonObject().put("fields", new JsonObject().put(key, value)));
    return command.substring("crm.lead.add?".length());
  }

  /** The one value the portal would read for {@code fields[key]}, after encoding. */
  private Object portalReads(String key, Object value) {
    return phpParse(fieldQuery(key, value)).getJsonObject("fields").getValue(key);
  }

  @Test
  void writesTheExampleFromTheReferenceLikePhpDoes() {
    JsonObject params = new JsonObject()
        .put("fields", new JsonObject()
            .put("TITLE", "Lead from BotHelp")
            .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "79991234567").put("VALUE_TYPE", "WORK"))))
        .put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"));

    assertEquals("crm.lead.add?fields%5BTITLE%5D=Lead+from+BotHelp"
            + "&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=79991234567"
            + "&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK"
            + "&params%5BREGISTER_SONET_EVENT%5D=Y",
        encoder.command("crm.lead.add", params));
  }

  @Test
  void cyrillicIsUtf8PercentEncodedOnce() {
    assertEquals("fields%5BTITLE%5D=%D0%9D%D0%BE%D0%B2%D1%8B%D0%B9+%D0%BB%D0%B8%D0%B4",
        fieldQuery("TITLE", "Новый лид"));
    assertEquals("Новый лид", portalReads("TITLE", "Новый лид"));
  }

  @Test
  void emojiOutsideTheBasicPlaneIsOneFourByteCharacter() {
    // U+1F600 is a surrogate pair in Java; it must go as its 4 UTF-8 bytes, not as two 3-byte halves.
    assertEquals("fields%5BNAME%5D=Ann+%F0%9F%98%80", fieldQuery("NAME", "Ann \uD83D\uDE00"));
    assertEquals("Ann 😀👍🏽", portalReads("NAME", "Ann 😀👍🏽"));
  }

  @Test
  void queryStringDelimitersInAValueDoNotSplitIt() {
    String value = "a&b=c+d%e#f?g/h;i";
    assertEquals("fields%5BCOMMENTS%5D=a%26b%3Dc%2Bd%25e%23f%3Fg%2Fh%3Bi", fieldQuery("COMMENTS", value));
    assertEquals(value, portalReads("COMMENTS", value));
  }

  @Test
  void plusInAValueIsNotReadAsASpace() {
    assertEquals("fields%5BPHONE_TEXT%5D=%2B7+999+123-45-67", fieldQuery("PHONE_TEXT", "+7 999 123-45-67"));
    assertEquals("+7 999 123-45-67", portalReads("PHONE_TEXT", "+7 999 123-45-67"));
  }

  @Test
  void onlyWhatPhpUrlencodeKeepsStaysUnencoded() {
    // PHP's urlencode keeps letters, digits and - _ . only; Java's URLEncoder would also keep '*'.
    assertEquals("fields%5BX%5D=aZ09-_.%2A%7E%21%27%28%29", fieldQuery("X", "aZ09-_.*~!'()"));
  }

  @Test
  void bracketsInAValueAreEncodedAndReadBackAsText() {
    assertEquals("fields%5BCOMMENTS%5D=%5Bb%5Dbold%5B%2Fb%5D", fieldQuery("COMMENTS", "[b]bold[/b]"));
    assertEquals("[b]bold[/b]", portalReads("COMMENTS", "[b]bold[/b]"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"UF_CRM_[1]", "UF[", "]", "A]B"})
  void aFieldNameWithABracketIsRefusedBecauseThePortalWouldReadItAsNesting(String name) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fieldQuery(name, "x"));
    assertTrue(e.getMessage().contains("bracket"), e.getMessage());
  }

  @Test
  void emptyKeysAndManglableTopLevelNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> fieldQuery("", "x"));
    assertThrows(IllegalArgumentException.class,
        () -> encoder.command("crm.lead.add", new JsonObject().put("my.fields", new JsonObject().put("A", 1))));
    assertThrows(IllegalArgumentException.class,
        () -> encoder.command("crm.lead.add", new JsonObject().put("my fields", "x")));
  }

  @Test
  void newlinesAndTabsSurvive() {
    String comments = "line 1\nline 2\r\nline 3\tcolumn";
    assertEquals("fields%5BCOMMENTS%5D=line+1%0Aline+2%0D%0Aline+3%09column", fieldQuery("COMMENTS", comments));
    assertEquals(comments, portalReads("COMMENTS", comments));
  }

  @Test
  void multiFieldRowsAreIndexedInOrder() {
    JsonArray phones = new JsonArray()
        .add(new JsonObject().put("VALUE", "+79990000001").put("VALUE_TYPE", "WORK"))
        .add(new JsonObject().put("VALUE", "+79990000002").put("VALUE_TYPE", "MOBILE"))
        .add(new JsonObject().put("VALUE", "+79990000003").put("VALUE_TYPE", "HOME"));

    String query = fieldQuery("PHONE", phones);

    assertEquals("fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B79990000001&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK"
        + "&fields%5BPHONE%5D%5B1%5D%5BVALUE%5D=%2B79990000002&fields%5BPHONE%5D%5B1%5D%5BVALUE_TYPE%5D=MOBILE"
        + "&fields%5BPHONE%5D%5B2%5D%5BVALUE%5D=%2B79990000003&fields%5BPHONE%5D%5B2%5D%5BVALUE_TYPE%5D=HOME",
        query);
  }

  @Test
  void numbersGoAsTheirJsonTextWithoutExponent() {
    assertEquals("fields%5BN%5D=42", fieldQuery("N", 42));
    assertEquals("fields%5BN%5D=-7", fieldQuery("N", -7));
    assertEquals("fields%5BN%5D=9007199254740993", fieldQuery("N", 9007199254740993L));
    assertEquals("fields%5BN%5D=1.50", fieldQuery("N", new BigDecimal("1.50")));
    assertEquals("fields%5BN%5D=1000", fieldQuery("N", new BigDecimal("1E+3")));
    assertEquals("fields%5BN%5D=123456789012345678901234567890",
        fieldQuery("N", new BigInteger("123456789012345678901234567890")));
    assertEquals("fields%5BN%5D=0.1", fieldQuery("N", 0.1));
    assertEquals("fields%5BN%5D=2.5", fieldQuery("N", 2.5f));
    assertEquals("fields%5BN%5D=100000000000000000000", fieldQuery("N", 1e20));
    assertEquals("fields%5BN%5D=0.0000001", fieldQuery("N", 1e-7));
  }

  @Test
  void notANumberIsRefusedRatherThanSentAsText() {
    assertThrows(IllegalArgumentException.class, () -> fieldQuery("N", Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> fieldQuery("N", Double.POSITIVE_INFINITY));
  }

  @Test
  void booleansGoAsYAndN() {
    assertEquals("fields%5BOPENED%5D=Y", fieldQuery("OPENED", true));
    assertEquals("fields%5BOPENED%5D=N", fieldQuery("OPENED", false));
  }

  @Test
  void nullIsNotSentAtAllAndNeverAsText() {
    JsonObject fields = new JsonObject().put("NAME", "Ann").putNull("LAST_NAME").put("TITLE", "T");
    String command = encoder.command("crm.lead.add", new JsonObject().put("fields", fields).putNull("params"));

    assertEquals("crm.lead.add?fields%5BNAME%5D=Ann&fields%5BTITLE%5D=T", command);
    assertFalse(command.toLowerCase().contains("null"));
  }

  @Test
  void aNullRowKeepsTheOtherRowsAtTheirIndexesAsPhpDoes() {
    JsonArray emails = new JsonArray().add(new JsonObject().put("VALUE", "a@x.ru")).addNull()
        .add(new JsonObject().put("VALUE", "b@x.ru"));

    assertEquals("fields%5BEMAIL%5D%5B0%5D%5BVALUE%5D=a%40x.ru&fields%5BEMAIL%5D%5B2%5D%5BVALUE%5D=b%40x.ru",
        fieldQuery("EMAIL", emails));
  }

  @Test
  void emptyArraysAndObjectsAreNotSent() {
    JsonObject fields = new JsonObject().put("NAME", "Ann").put("PHONE", new JsonArray())
        .put("EMAIL", new JsonArray().add(new JsonObject())).put("UF_CRM_1", new JsonObject())
        .put("TITLE", "");
    String command = encoder.command("crm.lead.add", new JsonObject().put("fields", fields)
        .put("params", new JsonObject()));

    // An empty string is a value (it clears a field); an empty container has nothing to say.
    assertEquals("crm.lead.add?fields%5BNAME%5D=Ann&fields%5BTITLE%5D=", command);
  }

  @Test
  void nothingToSendLeavesTheBareMethod() {
    assertEquals("crm.lead.fields", encoder.command("crm.lead.fields", new JsonObject()));
    assertEquals("crm.lead.fields", encoder.command("crm.lead.fields", null));
  }

  @Test
  void nestedParamsOfAListCall() {
    JsonObject params = new JsonObject()
        .put("filter", new JsonObject().put("ORIGINATOR_ID", "leadrelay")
            .put("@ORIGIN_ID", new JsonArray().add("01J0A").add("01J0B")))
        .put("select", new JsonArray().add("ID").add("ORIGIN_ID"))
        .put("start", 50);

    assertEquals("crm.lead.list?filter%5BORIGINATOR_ID%5D=leadrelay"
            + "&filter%5B%40ORIGIN_ID%5D%5B0%5D=01J0A&filter%5B%40ORIGIN_ID%5D%5B1%5D=01J0B"
            + "&select%5B0%5D=ID&select%5B1%5D=ORIGIN_ID&start=50",
        encoder.command("crm.lead.list", params));
  }

  @Test
  void plainMapsAndListsInsideTheJsonAreWrittenLikeJsonObjectsAndArrays() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("VALUE", "x");
    JsonObject fields = new JsonObject().put("IM", List.of(row));

    assertEquals("crm.lead.add?fields%5BIM%5D%5B0%5D%5BVALUE%5D=x",
        encoder.command("crm.lead.add", new JsonObject().put("fields", fields)));
  }

  @Test
  void aWholeLeadReadsBackAsSentExceptWhatAQueryStringCannotCarry() {
    JsonObject fields = new JsonObject()
        .put("TITLE", "Новый лид из BotHelp 🚀")
        .put("NAME", "Анна-Мария")
        .putNull("SECOND_NAME")
        .put("PHONE", new JsonArray()
            .add(new JsonObject().put("VALUE", "+7 (999) 123-45-67").put("VALUE_TYPE", "MOBILE"))
            .add(new JsonObject().put("VALUE", "8 800 555 35 35").put("VALUE_TYPE", "WORK")))
        .put("EMAIL", new JsonArray().add(new JsonObject().put("VALUE", "anna+bot@пример.рф").put("VALUE_TYPE", "HOME")))
        .put("COMMENTS", "Q: 50% off? A: yes & no = maybe #1\r\n\t[quote]<b>hi</b>[/quote]")
        .put("UTM_SOURCE", "a=b&c=d")
        .put("OPENED", true)
        .put("ASSIGNED_BY_ID", 17)
        .put("OPPORTUNITY", new BigDecimal("1500.50"))
        .put("WEB", new JsonArray())
        .put("ORIGINATOR_ID", "leadrelay")
        .put("ORIGIN_ID", "01HZX3M6Y0AB12CD34EF56GH78");
    JsonObject params = new JsonObject().put("fields", fields)
        .put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"));

    String command = encoder.command("crm.lead.add", params);

    assertTrue(command.startsWith("crm.lead.add?"));
    String query = command.substring("crm.lead.add?".length());
    for (String pair : query.split("&")) {
      assertEquals(2, pair.split("=", -1).length, "one '=' per pair: " + pair);
      assertFalse(pair.contains(" ") || pair.contains("#") || pair.contains("?") || pair.contains("\n"), pair);
    }
    JsonObject expected = new JsonObject()
        .put("fields", new JsonObject()
            .put("TITLE", "Новый лид из BotHelp 🚀")
            .put("NAME", "Анна-Мария")
            .put("PHONE", new JsonObject()
                .put("0", new JsonObject().put("VALUE", "+7 (999) 123-45-67").put("VALUE_TYPE", "MOBILE"))
                .put("1", new JsonObject().put("VALUE", "8 800 555 35 35").put("VALUE_TYPE", "WORK")))
            .put("EMAIL", new JsonObject()
                .put("0", new JsonObject().put("VALUE", "anna+bot@пример.рф").put("VALUE_TYPE", "HOME")))
            .put("COMMENTS", "Q: 50% off? A: yes & no = maybe #1\r\n\t[quote]<b>hi</b>[/quote]")
            .put("UTM_SOURCE", "a=b&c=d")
            .put("OPENED", "Y")
            .put("ASSIGNED_BY_ID", "17")
            .put("OPPORTUNITY", "1500.50")
            .put("ORIGINATOR_ID", "leadrelay")
            .put("ORIGIN_ID", "01HZX3M6Y0AB12CD34EF56GH78"))
        .put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"));
    assertEquals(expected, phpParse(query));
  }

  @Test
  void batchBodyRunsEveryCommandAndKeepsTheirOrder() {
    Map<String, String> commands = new LinkedHashMap<>();
    commands.put("01J0B", encoder.command("crm.lead.add", new JsonObject().put("fields", new JsonObject().put("NAME", "B"))));
    commands.put("01J0A", encoder.command("crm.lead.add", new JsonObject().put("fields", new JsonObject().put("NAME", "A"))));

    JsonObject body = encoder.batchBody(commands);

    assertEquals(0, body.getInteger("halt"));
    assertEquals(List.of("01J0B", "01J0A"), List.copyOf(body.getJsonObject("cmd").fieldNames()));
    assertEquals("crm.lead.add?fields%5BNAME%5D=A", body.getJsonObject("cmd").getString("01J0A"));
  }

  @Test
  void batchBodyTakesFiftyCommandsAndRefusesFiftyOne() {
    Map<String, String> commands = new LinkedHashMap<>();
    for (int i = 0; i < 50; i++) {
      commands.put("lead_" + i, "crm.lead.add?fields%5BNAME%5D=" + i);
    }
    assertEquals(50, encoder.batchBody(commands).getJsonObject("cmd").size());

    commands.put("lead_50", "crm.lead.add?fields%5BNAME%5D=50");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(commands));
    assertTrue(e.getMessage().contains("50"), e.getMessage());
  }

  @Test
  void batchBodyRefusesWhatThePortalCouldNotRun() {
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(Map.of()));
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(Map.of("a", "batch?halt=0")));
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(Map.of("a", " ")));
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(Map.of("a b", "crm.lead.add")));
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(Map.of("a[0]", "crm.lead.add")));
    Map<String, String> nullCommand = new LinkedHashMap<>();
    nullCommand.put("a", null);
    assertThrows(IllegalArgumentException.class, () -> encoder.batchBody(nullCommand));
  }

  @Test
  void commandRefusesANestedBatchAndMethodNamesThatAreNotMethods() {
    assertThrows(IllegalArgumentException.class, () -> encoder.command("batch", new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> encoder.command("crm.lead.add?x=1", new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> encoder.command("", new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> encoder.command(null, new JsonObject()));
  }

  /**
   * Reads a query string the way PHP's parse_str does for the keys this encoder writes: each pair split at its
   * first '=', key and value URL-decoded ('+' is a space), then {@code a[b][c]} nested; list indexes stay keys.
   */
  private static JsonObject phpParse(String query) {
    JsonObject root = new JsonObject();
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      int bracket = key.indexOf('[');
      String[] parts = bracket < 0 ? new String[] {key}
          : (key.substring(0, bracket) + "]" + key.substring(bracket)).replace("][", "\u0000").replace("]", "")
              .split("\u0000");
      JsonObject node = root;
      for (int i = 0; i < parts.length - 1; i++) {
        if (!node.containsKey(parts[i])) {
          node.put(parts[i], new JsonObject());
        }
        node = node.getJsonObject(parts[i]);
      }
      node.put(parts[parts.length - 1], value);
    }
    return root;
  }

  private static JsonObject lead(String key, Object value) {
    return new JsonObject().put("fields", new JsonObject().put("TITLE", "t").put(key, value)
        .put("ORIGIN_ID", "d-1")).put("params", new JsonObject().put("REGISTER_SONET_EVENT", "Y"));
  }

  @Test
  void anOrdinaryLeadFitsInABatch() {
    assertEquals(null, encoder.aloneReason("crm.lead.add", lead("NAME", "Иван $ 100, result")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"$result[1]", "$RESULT[x][ID]", "Цена $Total[5]", "$next", "a$time[b]", "$error[c]"})
  void aValueBitrix24WouldSubstituteGoesAlone(String value) {
    assertEquals("a value in NAME would be rewritten by Bitrix24 as a $result[...] reference",
        encoder.aloneReason("crm.lead.add", lead("NAME", value)));
    JsonObject nested = lead("PHONE", new JsonArray().add(new JsonObject().put("VALUE", value)));
    assertEquals("a value in PHONE would be rewritten by Bitrix24 as a $result[...] reference",
        encoder.aloneReason("crm.lead.add", nested));
  }

  @Test
  void aLeadOfMoreThan1000PairsGoesAlone() {
    JsonArray rows = new JsonArray();
    for (int i = 0; i < 498; i++) {
      rows.add(new JsonObject().put("VALUE", "+7" + i).put("VALUE_TYPE", "WORK"));
    }
    // TITLE + 996 rows + ORIGIN_ID + REGISTER_SONET_EVENT = 999 pairs: fits; one more row makes 1001.
    assertEquals(null, encoder.aloneReason("crm.lead.add", lead("PHONE", rows)));
    rows.add(new JsonObject().put("VALUE", "+7x").put("VALUE_TYPE", "WORK"));
    assertEquals("1001 parameters are more than the 1000 PHP reads in a batch command",
        encoder.aloneReason("crm.lead.add", lead("PHONE", rows)));
  }

  @Test
  void aValueNestedDeeperThan64LevelsGoesAlone() {
    Object deep = "x";
    for (int i = 0; i < 63; i++) {
      deep = new JsonObject().put("k", deep);
    }
    // fields[UF_CRM_1] + 63 levels = 64 brackets: PHP still reads it.
    assertEquals(null, encoder.aloneReason("crm.lead.add", lead("UF_CRM_1", deep)));
    assertEquals("65 levels of nesting are more than the 64 PHP reads",
        encoder.aloneReason("crm.lead.add", lead("UF_CRM_1", new JsonObject().put("k", deep))));
  }

  @Test
  void aKeyTheEncoderRefusesGoesAlone() {
    assertTrue(encoder.aloneReason("crm.lead.add", lead("A[B]", "x")).contains("bracket"));
  }
}
