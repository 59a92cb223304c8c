package io.leadrelay.bitrix;

import io.leadrelay.testing.PhpQuery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batch encoding against real PHP, the language the portal reads it with: every command is decoded by PHP's own
 * {@code parse_str} (default max_input_vars and max_input_nesting_level) and must come back as the fields that were
 * encoded. One {@code php} process serves the whole class, reading one query per line and answering its
 * {@code json_encode}. Without {@code php} on the PATH the class fails: .ci/run installs Debian's php-cli. The same
 * queries also check {@link PhpQuery}, the fake portal's emulation of parse_str.
 */
class PhpParseStrTest {

  /** parse_str of each line; json_encode keeps Cyrillic and slashes readable, warnings go to stderr. */
  private static final String SCRIPT = "while (($line = fgets(STDIN)) !== false) {"
      + " parse_str(rtrim($line, \"\\n\"), $out);"
      + " echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), \"\\n\"; flush(); }";

  private static Process php;
  private static Writer toPhp;
  private static BufferedReader fromPhp;
  private final BatchEncoder encoder = new BatchEncoder();

  @BeforeAll
  static void startPhp() throws IOException {
    // No fallback: if php is missing this throws and every test here fails, as it must.
    php = new ProcessBuilder("php", "-d", "display_errors=stderr", "-r", SCRIPT)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    toPhp = new OutputStreamWriter(php.getOutputStream(), StandardCharsets.UTF_8);
    fromPhp = new BufferedReader(new InputStreamReader(php.getInputStream(), StandardCharsets.UTF_8));
  }

  @AfterAll
  static void stopPhp() {
    if (php != null) {
      php.destroy();
    }
  }

  /** What PHP's parse_str makes of a query, as JSON. */
  private static JsonObject parseStr(String query) throws IOException {
    toPhp.write(query + "\n");
    toPhp.flush();
    String answer = fromPhp.readLine();
    assertNotNull(answer, "php stopped answering");
    return answer.equals("[]") ? new JsonObject() : new JsonObject(answer);
  }

  /** Encodes crm.lead.add with these fields, decodes it with PHP and checks PhpQuery reads it the same way. */
  private JsonObject roundTrip(JsonObject fields) throws IOException {
    String command = encoder.command("crm.lead.add", new JsonObject().put("fields", fields));
    String query = command.substring("crm.lead.add?".length());
    JsonObject decoded = parseStr(query);
    assertEquals(decoded, PhpQuery.decode(query), "PhpQuery reads " + query + " as PHP does");
    return decoded.getJsonObject("fields", new JsonObject());
  }

  private static JsonArray rows(String... values) {
    JsonArray rows = new JsonArray();
    for (String value : values) {
      rows.add(new JsonObject().put("VALUE", value).put("VALUE_TYPE", "WORK"));
    }
    return rows;
  }

  @Test
  void aLeadWithCyrillicEmojiAndMultiFieldsArrivesAsItWasSent() throws IOException {
    JsonObject fields = new JsonObject().put("TITLE", "Новый лид из BotHelp").put("NAME", "Анна 😀👍🏽🇯🇵")
        .put("PHONE", rows("+7 (999) 123-45-67", "8 800 555 35 35")).put("EMAIL", rows("anna@example.ru"))
        .put("COMMENTS", "Бюджет: 9000\nстрана: Япония🇯🇵").put("ORIGIN_ID", "01J0000000000000000000000");
    assertEquals(fields, roundTrip(fields));
  }

  @Test
  void everyDelimiterInAValueOrANestedKeyStaysInside() throws IOException {
    String delimiters = "a&b=c+d%e#f;g[h]i j?k/l\\m'n\"o<p>q~r*s!t@u,v:w|x{y}z^`$";
    JsonObject fields = new JsonObject().put("COMMENTS", delimiters).put("NAME", " leading and trailing ")
        .put("UF_CRM_LIST", new JsonObject().put("a b.c&d=e+f%g#h;i", delimiters).put("%5B", "encoded bracket"))
        .put("PLUS", "+").put("PERCENT", "%41").put("EMPTY", "");
    assertEquals(fields, roundTrip(fields));
  }

  @Test
  void lineBreaksTabsAndLongValuesArriveWhole() throws IOException {
    JsonObject fields = new JsonObject().put("COMMENTS", "line 1\nline 2\r\nline 3\ttab\u000bvt")
        .put("LONG", "я".repeat(10_000)).put("EMOJI_250", "😀".repeat(250));
    assertEquals(fields, roundTrip(fields));
  }

  @Test
  void numbersBooleansAndNullsArriveAsPhpStrings() throws IOException {
    JsonObject fields = new JsonObject().put("INT", 9000).put("LONG", 12345678901234L).put("NEGATIVE", -5)
        .put("DOUBLE", 1.5).put("TENTH", 0.1).put("HUGE", 1e20).put("DECIMAL", new BigDecimal("1.50"))
        .put("YES", true).put("NO", false).put("NULL", null)
        .put("EMPTY_LIST", new JsonArray()).put("EMPTY_OBJECT", new JsonObject());
    assertEquals(new JsonObject().put("INT", "9000").put("LONG", "12345678901234").put("NEGATIVE", "-5")
        .put("DOUBLE", "1.5").put("TENTH", "0.1").put("HUGE", "100000000000000000000").put("DECIMAL", "1.50")
        .put("YES", "Y").put("NO", "N"), roundTrip(fields));
  }

  @Test
  void aNullInsideAListKeepsTheOtherIndexes() throws IOException {
    JsonObject fields = new JsonObject().put("LIST", new JsonArray().add("a").addNull().add("c"));
    assertEquals(new JsonObject().put("LIST", new JsonObject().put("0", "a").put("2", "c")), roundTrip(fields));
  }

  @Test
  void nestingUpTo64LevelsArrivesAndDeeperIsWhatTheEncoderSendsAlone() throws IOException {
    Object deep = "x";
    for (int i = 0; i < 63; i++) {
      deep = new JsonObject().put("k", deep);
    }
    JsonObject fits = new JsonObject().put("UF_CRM_DEEP", deep);
    assertEquals(fits, roundTrip(fits), "fields[UF_CRM_DEEP] and 63 more levels: 64 brackets");
    assertNull(encoder.aloneReason("crm.lead.add", new JsonObject().put("fields", fits)));

    JsonObject tooDeep = new JsonObject().put("UF_CRM_DEEP", new JsonObject().put("k", deep)).put("NAME", "n");
    assertEquals(new JsonObject().put("NAME", "n"), roundTrip(tooDeep), "PHP drops the 65-bracket key");
    assertNotNull(encoder.aloneReason("crm.lead.add", new JsonObject().put("fields", tooDeep)));
  }

  @Test
  void theResultFamilyIsEncodedExactlyButSentAlone() throws IOException {
    for (String value : List.of("$result[1]", "$RESULT[lead][ID]", "$total[x]", "$next[y]", "$time[z]",
        "$error[e]", "Цена: $result[0] руб")) {
      JsonObject fields = new JsonObject().put("NAME", value);
      assertEquals(fields, roundTrip(fields), "PHP itself keeps " + value);
      assertNotNull(encoder.aloneReason("crm.lead.add", new JsonObject().put("fields", fields)),
          "Bitrix24 would rewrite " + value + " in a batch");
    }
  }

  @Test
  void past1000PairsPhpDropsTheRestOriginIdIncludedWhichIsWhyTheLeadGoesAlone() throws IOException {
    JsonArray phones = new JsonArray();
    for (int i = 0; i < 499; i++) {
      phones.add(new JsonObject().put("VALUE", "+7999" + i).put("VALUE_TYPE", "WORK"));
    }
    // TITLE + 998 rows + ORIGIN_ID = 1000 pairs: all arrive.
    JsonObject fits = new JsonObject().put("TITLE", "t").put("PHONE", phones).put("ORIGIN_ID", "d-1");
    assertEquals(fits, roundTrip(fits));
    assertNull(encoder.aloneReason("crm.lead.add", new JsonObject().put("fields", fits)));

    JsonObject tooMany = fits.copy();
    tooMany.getJsonArray("PHONE").add(new JsonObject().put("VALUE", "+7000").put("VALUE_TYPE", "WORK"));
    JsonObject arrived = roundTrip(tooMany);
    assertFalse(arrived.containsKey("ORIGIN_ID"), "the exactly-once look-up key is lost");
    JsonArray arrivedPhones = arrived.getJsonArray("PHONE");
    assertEquals(new JsonObject().put("VALUE", "+7000"), arrivedPhones.getJsonObject(arrivedPhones.size() - 1),
        "the last row's VALUE_TYPE is cut as well");
    assertTrue(encoder.aloneReason("crm.lead.add", new JsonObject().put("fields", tooMany))
        .startsWith("1002 parameters"));
  }
}
