package io.leadrelay.bitrix;

/**
 * A portal call cut off by the relay: its total deadline passed (connect, send, headers and body together) or its
 * answer grew past the size cap. {@code sent} says whether the request may have reached the portal: then the lead
 * may exist and the outcome is ambiguous; otherwise nothing was sent and sending again is safe.
 */
final class AnswerLimitException extends RuntimeException {

  private final boolean sent;

  AnswerLimitException(String message, boolean sent) {
    super(message, null, false, false);
    this.sent = sent;
  }

  boolean sent() {
    return sent;
  }
}
