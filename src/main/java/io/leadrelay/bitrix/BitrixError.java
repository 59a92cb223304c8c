package io.leadrelay.bitrix;

import java.time.Instant;

/**
 * Why one Bitrix24 call failed, already classified. {@code httpStatus} is null for transport failures (no answer),
 * {@code code} is Bitrix24's {@code error} exactly as sent (often {@code ""} for business errors; null when the
 * answer had no error code), {@code description} is safe to log. {@code retryAt}, when the answer says so, is the
 * earliest time a retry can succeed (for OPERATION_TIME_LIMIT: the {@code time.operating_reset_at} of the answer).
 */
public record BitrixError(ErrorClass errorClass, Integer httpStatus, String code, String description,
                          Instant retryAt) {

  public BitrixError(ErrorClass errorClass, Integer httpStatus, String code, String description) {
    this(errorClass, httpStatus, code, description, null);
  }

  /** The same error with every occurrence of {@code secret} (a webhook code) replaced by {@code ***}. */
  public BitrixError redact(String secret) {
    return new BitrixError(errorClass, httpStatus, Redaction.redact(code, secret),
        Redaction.redact(description, secret), retryAt);
  }

  /** The same error without Bitrix24's text, which can quote the lead's data: for what anyone may read (/health). */
  public BitrixError withoutDescription() {
    return new BitrixError(errorClass, httpStatus, code, null, retryAt);
  }

  /** What happened in Bitrix24's terms, e.g. {@code HTTP 503 QUERY_LIMIT_EXCEEDED: Too many requests}. */
  public String summary() {
    StringBuilder text = new StringBuilder();
    if (httpStatus != null) {
      text.append("HTTP ").append(httpStatus);
    }
    if (code != null && !code.isEmpty()) {
      text.append(text.isEmpty() ? "" : " ").append(code);
    }
    if (description != null && !description.isEmpty()) {
      text.append(text.isEmpty() ? "" : ": ").append(description);
    }
    return text.isEmpty() ? "no details" : text.toString();
  }

  /** One sentence for a person reading error.log: what it means for the lead, then Bitrix24's own words. */
  public String reason() {
    return switch (errorClass) {
      case REFUSED -> "Bitrix24 refused the request before creating anything (" + summary()
          + "); the lead can be sent again later.";
      case AMBIGUOUS -> "The outcome is unknown and the lead may have been created (" + summary()
          + "); look it up before sending it again.";
      case LEAD_REJECTED -> "Bitrix24 rejected this lead (" + summary() + ").";
      case PORTAL_FAILURE -> "The portal cannot take leads until someone fixes its configuration ("
          + summary() + ").";
    };
  }
}
