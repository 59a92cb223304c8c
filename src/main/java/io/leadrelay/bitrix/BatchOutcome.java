package io.leadrelay.bitrix;

/**
 * What one command of a batch came to. Either it succeeded with {@code result} (its {@code result} value, possibly
 * null) and {@code error} is null, or it failed with a classified {@code error}: Bitrix24's own error for it, or
 * {@link ErrorClass#AMBIGUOUS} when the answer says nothing about it. {@code time} is its {@code result_time}
 * block, null when the answer has none.
 */
public record BatchOutcome(String name, Object result, BitrixError error, BatchTime time) {

  public boolean succeeded() {
    return error == null;
  }

  /** For a crm.lead.add command: the new lead's id (numeric strings accepted), or null when there is none. */
  public Long leadId() {
    return succeeded() ? positiveId(result) : null;
  }

  /**
   * For a crm.lead.add command: what to record when there is no lead id. The command's own error, or
   * {@link ErrorClass#AMBIGUOUS} when it succeeded without a usable id (something may have been created);
   * null when {@link #leadId()} is set.
   */
  public BitrixError leadAddError() {
    if (!succeeded()) {
      return error;
    }
    if (leadId() != null) {
      return null;
    }
    return new BitrixError(ErrorClass.AMBIGUOUS, null, null,
        "crm.lead.add answered without a lead id: " + String.valueOf(result));
  }

  /** A positive whole number, or its decimal text (Bitrix24 sends ids both ways); null for anything else. */
  static Long positiveId(Object value) {
    if (value instanceof Number number && number.doubleValue() == number.longValue() && number.longValue() > 0) {
      return number.longValue();
    }
    if (value instanceof String text && text.trim().matches("\\d{1,18}")) {
      long id = Long.parseLong(text.trim());
      return id > 0 ? id : null;
    }
    return null;
  }

  BatchOutcome redact(String secret) {
    return error == null ? this : new BatchOutcome(name, result, error.redact(secret), time);
  }
}
