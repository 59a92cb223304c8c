package io.leadrelay.alerting;

import io.leadrelay.logging.ErrorEvent;

/**
 * A delivery that went DEAD, told by what is safe to quote: its id and the error's class and codes. Bitrix24's own
 * text is not kept here (it can quote the subscriber's data); the admin page shows it to whoever may see it.
 */
public record DeadDelivery(String deliveryId, String integration, String stage, String error, String errorClass,
                           Integer httpStatus, String bitrixCode) {

  /** The DEAD ones among error.log's events (their {@code next} says "dead: ..."); null for any other. */
  public static DeadDelivery of(ErrorEvent event) {
    if (event.deliveryId() == null || event.next() == null || !event.next().startsWith("dead")) {
      return null;
    }
    return new DeadDelivery(event.deliveryId(), event.integration(), event.stage(), event.error(),
        event.errorClass(), event.httpStatus(), event.bitrixCode());
  }

  /** Why, in plain words without Bitrix24's text. */
  public String why() {
    String codes = codes();
    if ("LEAD_REJECTED".equals(errorClass)) {
      return "Bitrix24 rejected this lead" + codes + ".";
    }
    if (errorClass != null) {
      return "Bitrix24 did not take it for longer than the maximum age, so the relay gave up" + codes + ".";
    }
    return "It could not be turned into a lead (" + stage + ": " + error + ").";
  }

  private String codes() {
    StringBuilder text = new StringBuilder();
    if (httpStatus != null) {
      text.append("HTTP ").append(httpStatus);
    }
    if (bitrixCode != null && !bitrixCode.isEmpty()) {
      text.append(text.isEmpty() ? "" : " ").append(bitrixCode);
    }
    return text.isEmpty() ? "" : " (" + text + ")";
  }
}
