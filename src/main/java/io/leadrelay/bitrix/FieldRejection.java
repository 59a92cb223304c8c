package io.leadrelay.bitrix;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Whether Bitrix24 rejected a lead because of the value of a field (reference: bitrix24-rest.md §3), the one kind
 * of rejection that sending the lead again without its checked fields can cure.
 *
 * <p>Such an answer is HTTP 400 (inside a batch: a command error without a status) with an empty error code and the
 * text {@code CCrmLead::CheckFields} collects: one message per refused field, each ended by {@code <br />}
 * (e.g. {@code The required field 'Lead Name' is missing.<br />}, recorded from a real portal in
 * mesilov/bitrix24-php-sdk#59). Texts without that mark ("Access denied.", "Not found") come from elsewhere and are
 * not field errors; a missing required field is one, but removing fields cannot fill it, so it is excluded.
 * Pure.
 */
public final class FieldRejection {

  private static final Pattern CHECK_FIELDS_MARK = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);

  /** A required field is missing: sending fewer fields cannot help. Russian and English portal texts. */
  private static final Pattern REQUIRED_FIELD = Pattern.compile("required field|обязательное поле|обязательного поля",
      Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

  private FieldRejection() {
  }

  /** True for Bitrix24's answer to a lead with a field value it refuses. */
  public static boolean isFieldError(BitrixError error) {
    if (error == null || error.errorClass() != ErrorClass.LEAD_REJECTED) {
      return false;
    }
    Integer status = error.httpStatus();
    String description = error.description() == null ? "" : error.description();
    return (status == null || status == 400)
        && error.code() != null && error.code().isEmpty()
        && CHECK_FIELDS_MARK.matcher(description).find()
        && !REQUIRED_FIELD.matcher(description).find()
        && !description.toLowerCase(Locale.ROOT).contains("access denied");
  }
}
