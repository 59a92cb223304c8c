package io.leadrelay.bitrix;

/**
 * What a failed Bitrix24 call means for the lead it carried, and so what may be done next. The class decides
 * between "send again", "look the lead up first", "give up on this lead" and "stop the portal".
 */
public enum ErrorClass {

  /**
   * Refused before execution: nothing was created, the same request is safe to send again after a wait
   * (503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT, connection refused, connect timeout, DNS failure).
   */
  REFUSED,

  /**
   * The lead may have been created: the request left but no usable answer came back (timeout after sending,
   * connection closed or reset, 5xx, INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER, 500 ERROR_CORE "SQL query
   * error!" (the method failed while running), an empty or non-JSON body, 200 without {@code result}, an answer cut
   * off at the request deadline or the size cap). Look the lead up before adding it again.
   */
  AMBIGUOUS,

  /**
   * Permanent for this lead only: Bitrix24 rejected its data (400 with an empty code and a text about the data,
   * 400 ERROR_CORE, 400 INVALID_REQUEST, ERROR_BATCH_*, other non-auth 4xx). Sending it again gives the same answer.
   */
  LEAD_REJECTED,

  /**
   * Permanent for the whole portal until a person fixes it: wrong or revoked webhook, missing scope or plan,
   * method missing, portal blocked, deleted or moved (NO_AUTH_FOUND, ACCESS_DENIED, OVERLOAD_LIMIT, 401
   * INVALID_REQUEST "Https required.", an empty code with "Access denied.", a 401/403 without a known code, an HTML
   * 404, a redirect that may not be followed, ...).
   */
  PORTAL_FAILURE;

  /** The short machine code used in error events, e.g. {@code "lead_rejected"}. */
  public String eventCode() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
