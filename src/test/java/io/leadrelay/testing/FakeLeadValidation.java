package io.leadrelay.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a real portal's crm.lead.add checks before it creates a lead (Bitrix24 crm module: {@code CCrmLead::CheckFields},
 * {@code CCrmFieldMulti::CheckComplexFields}, main's {@code check_email}), and the recorded body it answers when a
 * check fails (src/test/resources/bitrix). Written from Bitrix24's PHP, independently of the relay's own guard, so
 * that an end-to-end test shows what the real portal would do. Test code only.
 */
final class FakeLeadValidation {

  private static final Pattern EMAIL;

  static {
    String atom = "[=_0-9a-z+~'!$&*^`|#%/?{}-]";
    String domain = "[a-z0-9-]";
    EMAIL = Pattern.compile("^" + atom + "+(\\." + atom + "+)*@((" + domain + "+\\.)+)(" + domain + "{2,20})$",
        Pattern.CASE_INSENSITIVE);
  }

  private static final Pattern BRACKETED = Pattern.compile(".*?[<\\[(](.*?)[>\\])].*", Pattern.DOTALL);
  private static final Pattern OPPORTUNITY = Pattern.compile("^\\d{1,}(\\.\\d{1,})?$");
  private static final Pattern NUMBER = Pattern.compile("^-?\\d+(\\.\\d+)?$");

  private FakeLeadValidation() {
  }

  /** The error body for these fields, or null when the portal would create the lead. */
  static JsonObject refusal(JsonObject fields, Set<String> numberFields) {
    if (fields.getValue("OPPORTUNITY") instanceof String text && !text.isEmpty()) {
      // As CCrmLead: spaces removed, ',' read as '.', a leading '.' as '0.'.
      String amount = text.replace(",", ".").replace(" ", "");
      if (amount.startsWith(".")) {
        amount = "0" + amount;
      }
      if (!OPPORTUNITY.matcher(amount).matches()) {
        return Resources.json("bitrix/lead-add-opportunity-invalid.json");
      }
    }
    for (String type : new String[] {"PHONE", "EMAIL", "WEB", "IM"}) {
      if (!(fields.getValue(type) instanceof JsonArray rows)) {
        continue;
      }
      for (Object row : rows) {
        String value = row instanceof JsonObject object && object.getValue("VALUE") != null
            ? String.valueOf(object.getValue("VALUE")) : "";
        if (value.codePointCount(0, value.length()) > 250) {
          return Resources.json("bitrix/lead-add-multifield-too-long.json");
        }
        if (type.equals("EMAIL") && !value.isEmpty() && !checkEmail(value)) {
          return Resources.json("bitrix/lead-add-email-invalid.json");
        }
      }
    }
    for (String field : numberFields) {
      Object value = fields.getValue(field);
      if (value != null && !(value instanceof Number) && !NUMBER.matcher(String.valueOf(value).trim()).matches()) {
        return Resources.json("bitrix/lead-add-custom-field-invalid.json");
      }
    }
    return null;
  }

  /** main's check_email($email) in its default, non-strict mode. */
  private static boolean checkEmail(String email) {
    String address = email.trim();
    Matcher inner = BRACKETED.matcher(address);
    if (inner.matches() && !inner.group(1).isEmpty()) {
      address = inner.group(1);
    }
    return address.codePointCount(0, address.length()) <= 320 && EMAIL.matcher(address).matches();
  }
}
