package io.leadrelay.bitrix;

/** Masks a webhook's secret code out of any text that might reach a log (URLs echoed in exceptions or pages). */
final class Redaction {

  static final String MASK = "***";

  private Redaction() {
  }

  static String redact(String text, String secret) {
    if (text == null || secret == null || secret.isEmpty()) {
      return text;
    }
    return text.replace(secret, MASK);
  }
}
