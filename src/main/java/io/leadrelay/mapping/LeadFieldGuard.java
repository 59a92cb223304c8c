package io.leadrelay.mapping;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps a lead from being rejected whole by Bitrix24 for one value a subscriber typed (reference:
 * bitrix24-rest.md §3). Bitrix24's crm.lead.add refuses the entire lead when a non-empty EMAIL is not an address, a
 * multi-field value is longer than 250 characters, OPPORTUNITY is not a number, or a date field holds no date. Here
 * the same checks run before sending; a value that would fail leaves its field and is written into COMMENTS with a
 * Russian note saying why, so the manager still sees it and the lead is created.
 *
 * <p>The checks mirror Bitrix24's own code ({@code CCrmLead::CheckFields}, {@code CCrmFieldMulti::CheckComplexFields},
 * {@code check_email}); where they are unsure they are stricter, since a value moved to COMMENTS is kept, while a
 * value the portal refuses costs a rejected request. Custom {@code UF_CRM_*} fields cannot be checked without the
 * portal's {@code crm.lead.fields}: they are sent as they are, and if the portal still rejects the lead for a field,
 * {@link #withoutCheckedFields} gives the fields for the one retry. Pure and stateless.
 */
public final class LeadFieldGuard {

  /** Bitrix24 refuses a multi-field value longer than this (characters, as PHP's mb_strlen counts). */
  public static final int MULTI_VALUE_MAX = 250;

  /** Multi-fields: arrays of {@code {"VALUE", "VALUE_TYPE"}} rows. */
  static final Set<String> MULTI_FIELDS = Set.of("PHONE", "EMAIL", "IM", "WEB");

  /** Standard lead fields holding an amount: Bitrix24 accepts digits with an optional fraction. */
  static final Set<String> AMOUNT_FIELDS = Set.of("OPPORTUNITY");

  /** Standard lead fields holding the id of another record: a whole number. */
  static final Set<String> ID_FIELDS = Set.of("ASSIGNED_BY_ID", "COMPANY_ID", "CONTACT_ID");

  /** Standard lead fields holding a date (the other date fields of a lead are set by Bitrix24 itself). */
  static final Set<String> DATE_FIELDS = Set.of("BIRTHDATE");

  /**
   * Standard lead fields Bitrix24 stores as plain text without checking them: never the reason for a rejection,
   * so a retry keeps them in place.
   */
  private static final Set<String> UNCHECKED_TEXT_FIELDS = Set.of(
      "TITLE", "NAME", "LAST_NAME", "SECOND_NAME", "COMMENTS", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN",
      "UTM_CONTENT", "UTM_TERM", "SOURCE_ID", "SOURCE_DESCRIPTION", "STATUS_ID", "STATUS_DESCRIPTION", "OPENED",
      "ASSIGNED_BY_ID", "ORIGINATOR_ID", "ORIGIN_ID", "COMPANY_TITLE", "POST", "ADDRESS", "ADDRESS_2",
      "ADDRESS_CITY", "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY",
      "ADDRESS_COUNTRY_CODE");

  private static final Map<String, String> CAPTIONS = Map.of(
      "PHONE", "Телефон", "EMAIL", "E-mail", "IM", "Мессенджер", "WEB", "Сайт", "OPPORTUNITY", "Сумма",
      "BIRTHDATE", "Дата рождения", "ASSIGNED_BY_ID", "Ответственный", "COMPANY_ID", "Компания",
      "CONTACT_ID", "Контакт");

  /**
   * Bitrix24's {@code check_email}: an RFC 2822 dot-atom local part, a dotted domain and a top-level part of 2-20
   * characters. The ASCII form is used: older portals do not take letters beyond ASCII, newer ones do.
   */
  private static final Pattern EMAIL;

  static {
    String atom = "[=_0-9a-z+~'!$&*^`|#%/?{}-]";
    String domain = "[a-z0-9-]";
    EMAIL = Pattern.compile("^" + atom + "+(\\." + atom + "+)*@(" + domain + "+\\.)+" + domain + "{2,20}$",
        Pattern.CASE_INSENSITIVE);
  }

  /** check_email takes the address from inside {@code <…>}, {@code […]} or {@code (…)} when there is one. */
  private static final Pattern BRACKETED = Pattern.compile(".*?[<\\[(](.*?)[>\\])].*", Pattern.DOTALL);

  /** What CCrmLead accepts for OPPORTUNITY once spaces are gone and {@code ,} is {@code .}. */
  private static final Pattern AMOUNT = Pattern.compile("\\d+(\\.\\d+)?");
  private static final Pattern WHOLE_NUMBER = Pattern.compile("\\d{1,18}");
  /** Day.month.year as people in Russia write a date; sent to Bitrix24 as ISO 8601. */
  private static final Pattern RUSSIAN_DATE = Pattern.compile("(\\d{1,2})\\.(\\d{1,2})\\.(\\d{4})");

  private LeadFieldGuard() {
  }

  /**
   * The fields as Bitrix24 will take them: a copy with amounts normalised ({@code "9 000"} → {@code "9000"},
   * {@code "9000,50"} → {@code "9000.50"}), dates as ISO 8601, and every value that would be refused moved to
   * COMMENTS with a note. Fields it knows nothing about are left as they are.
   */
  public static JsonObject guard(JsonObject fields) {
    JsonObject guarded = fields.copy();
    List<String> notes = new ArrayList<>();
    for (String field : List.copyOf(guarded.fieldNames())) {
      Object value = guarded.getValue(field);
      if (MULTI_FIELDS.contains(field) && value instanceof JsonArray rows) {
        guardRows(guarded, field, rows, notes);
      } else if (AMOUNT_FIELDS.contains(field)) {
        replaceOrNote(guarded, field, amount(value), "не число", notes);
      } else if (ID_FIELDS.contains(field)) {
        replaceOrNote(guarded, field, wholeNumber(value), "не номер записи", notes);
      } else if (DATE_FIELDS.contains(field)) {
        replaceOrNote(guarded, field, date(value), "неверная дата", notes);
      }
    }
    return withNotes(guarded, notes);
  }

  /**
   * For the one retry after Bitrix24 rejected the lead for a field it did not name: every field that Bitrix24
   * checks (multi-fields, amounts, ids, dates), every custom {@code UF_*} field and every field not known to be plain
   * text moves to COMMENTS, so the lead is created with its name, title and comments and nothing is lost. Null when
   * no such field is left, i.e. the retry could not change the answer.
   */
  public static JsonObject withoutCheckedFields(JsonObject fields) {
    JsonObject kept = fields.copy();
    List<String> notes = new ArrayList<>();
    for (String field : List.copyOf(kept.fieldNames())) {
      if (UNCHECKED_TEXT_FIELDS.contains(field)) {
        continue;
      }
      Object value = kept.remove(field);
      if (value instanceof JsonArray rows && MULTI_FIELDS.contains(field)) {
        for (Object row : rows) {
          notes.add(note(field, "Bitrix24 не принял лид с этим полем", rowValue(row)));
        }
      } else {
        notes.add(note(field, "Bitrix24 не принял лид с этим полем", PayloadValue.text(value)));
      }
    }
    return notes.isEmpty() ? null : withNotes(kept, notes);
  }

  /** Whether Bitrix24 would take this as an e-mail address (its check_email, non-strict mode). */
  static boolean isEmail(String value) {
    String address = value.trim();
    Matcher bracketed = BRACKETED.matcher(address);
    if (bracketed.matches() && !bracketed.group(1).isEmpty()) {
      address = bracketed.group(1);
    }
    return address.codePointCount(0, address.length()) <= 320 && EMAIL.matcher(address).matches();
  }

  private static void guardRows(JsonObject fields, String field, JsonArray rows, List<String> notes) {
    JsonArray kept = new JsonArray();
    for (Object row : rows) {
      String value = rowValue(row);
      if (value.codePointCount(0, value.length()) > MULTI_VALUE_MAX) {
        notes.add(note(field, "длиннее " + MULTI_VALUE_MAX + " символов", value));
      } else if (field.equals("EMAIL") && !value.isEmpty() && !isEmail(value)) {
        notes.add(note(field, "неверный формат", value));
      } else {
        kept.add(row);
      }
    }
    if (kept.isEmpty()) {
      fields.remove(field);
    } else {
      fields.put(field, kept);
    }
  }

  private static String rowValue(Object row) {
    return row instanceof JsonObject object ? PayloadValue.text(object.getValue("VALUE")) : PayloadValue.text(row);
  }

  /** Puts the accepted form back in place, or moves the value to the notes when there is none. */
  private static void replaceOrNote(JsonObject fields, String field, Object accepted, String reason,
                                    List<String> notes) {
    Object value = fields.getValue(field);
    if (accepted != null) {
      fields.put(field, accepted);
    } else if (!PayloadValue.isBlank(value)) {
      fields.remove(field);
      notes.add(note(field, reason, PayloadValue.text(value)));
    } else {
      fields.remove(field);
    }
  }

  /**
   * A JSON number as it is unless negative; text as CCrmLead reads it (no spaces, {@code ,} as {@code .}); null if
   * no amount. A batch sends every value as text, so -5 reaches the portal as "-5" and is refused like that text.
   */
  static Object amount(Object value) {
    if (value instanceof Number number) {
      return finite(number) && !negative(number) ? number : null;
    }
    if (!(value instanceof CharSequence text)) {
      return null;
    }
    StringBuilder normal = new StringBuilder();
    text.codePoints().filter(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c))
        .forEach(c -> normal.appendCodePoint(c == ',' ? '.' : c));
    if (normal.length() > 0 && normal.charAt(0) == '.') {
      normal.insert(0, '0');
    }
    return AMOUNT.matcher(normal).matches() ? normal.toString() : null;
  }

  private static Object wholeNumber(Object value) {
    if (value instanceof Number number) {
      return finite(number) && number.doubleValue() >= 0 && number.doubleValue() == Math.rint(number.doubleValue())
          ? number : null;
    }
    String text = value instanceof CharSequence chars ? chars.toString().trim() : null;
    return text != null && WHOLE_NUMBER.matcher(text).matches() ? text : null;
  }

  /** An ISO 8601 date or date-time as it is, a Russian {@code 31.01.1990} as {@code 1990-01-31}; else null. */
  static String date(Object value) {
    if (!(value instanceof CharSequence chars)) {
      return null;
    }
    String text = chars.toString().trim();
    Matcher russian = RUSSIAN_DATE.matcher(text);
    try {
      if (russian.matches()) {
        return LocalDate.of(Integer.parseInt(russian.group(3)), Integer.parseInt(russian.group(2)),
            Integer.parseInt(russian.group(1))).toString();
      }
      if (text.length() == 10) {
        return LocalDate.parse(text).toString();
      }
      if (text.length() > 19 && (text.endsWith("Z") || text.charAt(text.length() - 6) == '+'
          || text.charAt(text.length() - 6) == '-')) {
        OffsetDateTime.parse(text);
      } else {
        java.time.LocalDateTime.parse(text);
      }
      return text;
    } catch (java.time.DateTimeException e) {
      return null;
    }
  }

  /** Below zero. */
  private static boolean negative(Number number) {
    if (number instanceof BigDecimal decimal) {
      return decimal.signum() < 0;
    }
    if (number instanceof java.math.BigInteger whole) {
      return whole.signum() < 0;
    }
    return number.doubleValue() < 0;
  }

  private static boolean finite(Number number) {
    if (number instanceof BigDecimal) {
      return true;
    }
    double d = number.doubleValue();
    return !Double.isNaN(d) && !Double.isInfinite(d);
  }

  private static String note(String field, String reason, String value) {
    String caption = CAPTIONS.getOrDefault(field, field.toUpperCase(Locale.ROOT));
    return caption + " (не сохранено в поле, " + reason + "): " + value;
  }

  private static JsonObject withNotes(JsonObject fields, List<String> notes) {
    if (notes.isEmpty()) {
      return fields;
    }
    String comments = PayloadValue.text(fields.getValue("COMMENTS"));
    String joined = String.join("\n", notes);
    fields.put("COMMENTS", comments.isEmpty() ? joined : comments + "\n" + joined);
    return fields;
  }
}
