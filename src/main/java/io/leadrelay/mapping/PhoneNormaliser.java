package io.leadrelay.mapping;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Writes the phone numbers subscribers type in one form, E.164 ({@code +79991234567}), with Google's
 * libphonenumber. Bitrix24 matches duplicates by the stored string (reference: bitrix24-rest.md §6), so
 * {@code 8 (999) 123-45-67} and {@code +7 999 123 45 67} only match once both are stored the same way. A number
 * written without a country code is read in the integration's region ({@code RU}: a leading 8 is the trunk prefix).
 *
 * <p>What is not a phone number is never dropped: it stays exactly as typed and the caller notes it in COMMENTS.
 * Only text made of digits and the signs people put between them counts: libphonenumber itself would read the
 * number out of "звоните после 18, 89991234567" and silently lose the words around it. Pure and thread-safe.
 */
public final class PhoneNormaliser {

  /** How a recognised number is sent. */
  public enum Format {
    /** {@code +79991234567}: the form duplicate search can match. */
    E164,
    /** As the subscriber typed it (trimmed); unrecognised values are still noted. */
    ORIGINAL;

    /** {@code e164} or {@code original}, any case; null for anything else. */
    public static Format parse(String text) {
      if (text == null) {
        return null;
      }
      return switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "e164", "e.164" -> E164;
        case "original" -> ORIGINAL;
        default -> null;
      };
    }

    /** The configuration spelling. */
    public String configName() {
      return this == E164 ? "e164" : "original";
    }
  }

  /**
   * One value as it goes into PHONE.
   *
   * @param value      what is sent: E.164, or the text as typed
   * @param recognised false when the text is no phone number (the caller notes it in COMMENTS)
   */
  public record Phone(String value, boolean recognised) {
  }

  public static final String DEFAULT_REGION = "RU";

  private static final PhoneNumberUtil NUMBERS = PhoneNumberUtil.getInstance();

  /** Digits, a leading plus, and what people write between digit groups: spaces, brackets, dashes, dots, slashes. */
  private static final Pattern PHONE_TEXT = Pattern.compile("\\+?[\\d\\s()\\-\u2010\u2011\u2012\u2013\u2014./]+");

  private final String region;
  private final Format format;

  /**
   * @param region ISO 3166 region read for numbers without a country code ({@link #supportedRegion})
   * @param format how recognised numbers are sent
   */
  public PhoneNormaliser(String region, Format format) {
    if (!supportedRegion(region)) {
      throw new IllegalArgumentException("not a region libphonenumber knows: " + region);
    }
    this.region = region.toUpperCase(Locale.ROOT);
    this.format = Objects.requireNonNull(format, "format");
  }

  /** The relay's default: Russia, E.164. */
  public static PhoneNormaliser russian() {
    return new PhoneNormaliser(DEFAULT_REGION, Format.E164);
  }

  /** Whether libphonenumber has numbering rules for this two-letter region code (any case). */
  public static boolean supportedRegion(String region) {
    return region != null && NUMBERS.getSupportedRegions().contains(region.trim().toUpperCase(Locale.ROOT));
  }

  public String region() {
    return region;
  }

  public Format format() {
    return format;
  }

  /** The value for PHONE: the number in E.164 (or as typed), or the text as typed when it is no phone number. */
  public Phone normalise(String typed) {
    String text = typed == null ? "" : typed.trim();
    String e164 = e164(text);
    if (e164 == null) {
      return new Phone(text, false);
    }
    return new Phone(format == Format.E164 ? e164 : text, true);
  }

  /**
   * The number in E.164, or null if the text is not a valid number. Read in the default region first; failing that,
   * as an international number whose {@code +} was left out ({@code 375291234567}), as people often write them.
   */
  private String e164(String text) {
    if (!PHONE_TEXT.matcher(text).matches()) {
      return null;
    }
    String number = valid(text, region);
    return number != null || text.startsWith("+") ? number : valid("+" + text, "ZZ");
  }

  /** E.164 of a valid number of a country; non-geographic ones (+800 freephone) would catch typos like 8 (000). */
  private static String valid(String text, String region) {
    try {
      PhoneNumber number = NUMBERS.parse(text, region);
      return NUMBERS.isValidNumber(number) && !PhoneNumberUtil.REGION_CODE_FOR_NON_GEO_ENTITY.equals(
          NUMBERS.getRegionCodeForNumber(number))
          ? NUMBERS.format(number, PhoneNumberUtil.PhoneNumberFormat.E164) : null;
    } catch (NumberParseException e) {
      return null;
    }
  }
}
