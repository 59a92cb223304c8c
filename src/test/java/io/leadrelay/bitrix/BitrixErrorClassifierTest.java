package io.leadrelay.bitrix;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BitrixErrorClassifierTest {

  private static final String JSON = "application/json";

  private static BitrixError answer(int status, String code, String description) {
    String body = new JsonObject().put("error", code).put("error_description", description).encode();
    return BitrixErrorClassifier.classify(status, JSON, body);
  }

  /** Every row of the error table in bitrix24-rest.md §3, plus codes in other cases and statuses. */
  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
      "503, QUERY_LIMIT_EXCEEDED,            REFUSED",
      "503, query_limit_exceeded,            REFUSED",
      "429, OPERATION_TIME_LIMIT,            REFUSED",
      "503, OVERLOAD_LIMIT,                  PORTAL_FAILURE",
      "500, INTERNAL_SERVER_ERROR,           AMBIGUOUS",
      "500, ERROR_UNEXPECTED_ANSWER,         AMBIGUOUS",
      "401, expired_token,                   PORTAL_FAILURE",
      "401, NO_AUTH_FOUND,                   PORTAL_FAILURE",
      "401, No_Auth_Found,                   PORTAL_FAILURE",
      "401, invalid_token,                   PORTAL_FAILURE",
      "403, ACCESS_DENIED,                   PORTAL_FAILURE",
      "403, INVALID_CREDENTIALS,             PORTAL_FAILURE",
      "403, insufficient_scope,              PORTAL_FAILURE",
      "403, user_access_error,               PORTAL_FAILURE",
      "400, ERROR_CORE,                      LEAD_REJECTED",
      "400, INVALID_REQUEST,                 LEAD_REJECTED",
      "404, ERROR_METHOD_NOT_FOUND,          PORTAL_FAILURE",
      "400, ERROR_METHOD_NOT_FOUND,          PORTAL_FAILURE",
      "400, ERROR_BATCH_LENGTH_EXCEEDED,     LEAD_REJECTED",
      "405, ERROR_BATCH_METHOD_NOT_ALLOWED,  LEAD_REJECTED",
      "500, PORTAL_DELETED,                  PORTAL_FAILURE",
      "402, PAYMENT_REQUIRED,                PORTAL_FAILURE",
      "401, SOMETHING_NEW,                   PORTAL_FAILURE",
      "403, SOMETHING_NEW,                   PORTAL_FAILURE",
      "429, SOMETHING_NEW,                   REFUSED",
      "422, SOMETHING_NEW,                   LEAD_REJECTED",
      "500, SOMETHING_NEW,                   AMBIGUOUS",
      "502, SOMETHING_NEW,                   AMBIGUOUS",
      "200, SOMETHING_NEW,                   AMBIGUOUS",
  })
  void classifiesBitrixErrorCodesFirstThenStatus(int status, String code, ErrorClass expected) {
    BitrixError error = answer(status, code, "Some text");

    assertEquals(expected, error.errorClass());
    assertEquals(status, error.httpStatus());
    assertEquals(code, error.code());
    assertEquals("Some text", error.description());
  }

  @Test
  void emptyCodeWithTextIsALeadRejection() {
    BitrixError error = answer(400, "", "Parameter 'fields' must be array.");

    assertEquals(ErrorClass.LEAD_REJECTED, error.errorClass());
    assertEquals("", error.code());
    assertEquals("Bitrix24 rejected this lead (HTTP 400: Parameter 'fields' must be array.).", error.reason());
  }

  /**
   * Answers recorded from real portals (src/test/resources/bitrix/answers, each with its source): classified by what
   * the portal means, not by the code's usual class.
   */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      // Plain http to a portal that requires https: every lead would get it, so the portal pauses.
      "https-required.json,  PORTAL_FAILURE",
      // The webhook's user may not add leads: a permission of the portal, not this lead's data.
      "access-denied.json,   PORTAL_FAILURE",
      // A database failure while crm.lead.add ran: the lead may exist.
      "sql-query-error.json, AMBIGUOUS",
  })
  void recordedAnswersAreClassifiedByWhatThePortalMeans(String file, ErrorClass expected) {
    JsonObject recorded = io.leadrelay.testing.Resources.json("bitrix/answers/" + file);

    BitrixError error = BitrixErrorClassifier.classify(recorded.getInteger("status"), JSON,
        recorded.getJsonObject("body").encode());

    assertEquals(expected, error.errorClass(), error.summary());
    assertEquals(recorded.getJsonObject("body").getString("error"), error.code());
  }

  @Test
  void httpsRequiredIsAboutThePortalWhateverTheStatusButOtherInvalidRequestsAreAboutTheLead() {
    assertEquals(ErrorClass.PORTAL_FAILURE, answer(400, "INVALID_REQUEST", "Https required.").errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, answer(400, "INVALID_REQUEST", "Wrong field value").errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, answer(400, "ERROR_CORE", "Wrong field value").errorClass());
    assertEquals(ErrorClass.LEAD_REJECTED, answer(400, "", "Access denied for field EMAIL").errorClass());
  }

  @Test
  void emptyCodeOnAuthStatusesIsAPortalFailure() {
    assertEquals(ErrorClass.PORTAL_FAILURE, answer(401, "", "").errorClass());
    assertEquals(ErrorClass.PORTAL_FAILURE, answer(403, "", "Access denied.").errorClass());
  }

  @Test
  void jsonNotFoundFromTheCrmIsAboutTheLeadButAnHtmlNotFoundIsAboutThePortal() {
    assertEquals(ErrorClass.LEAD_REJECTED, answer(404, "", "Not found").errorClass());
    BitrixError page = BitrixErrorClassifier.classify(404, "text/html",
        "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>");
    assertEquals(ErrorClass.PORTAL_FAILURE, page.errorClass());
    assertNull(page.code());
  }

  @Test
  void operationTimeLimitCarriesWhenTheMethodUnblocks() {
    String body = "{\"error\":\"OPERATION_TIME_LIMIT\",\"error_description\":\"Method is blocked\","
        + "\"time\":{\"operating\":480.2,\"operating_reset_at\":1717259962}}";

    BitrixError error = BitrixErrorClassifier.classify(429, JSON, body);

    assertEquals(ErrorClass.REFUSED, error.errorClass());
    assertEquals(Instant.ofEpochSecond(1717259962), error.retryAt());
  }

  @Test
  void operationTimeLimitWithoutTimeBlockHasNoRetryHint() {
    assertNull(answer(429, "OPERATION_TIME_LIMIT", "Method is blocked").retryAt());
    assertNull(answer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests").retryAt());
  }

  @Test
  void htmlErrorPagesGetAShortTextDescription() {
    String page = "<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title>"
        + "<style>body { color: red }</style></head><body><h1>503 Service Temporarily Unavailable</h1>"
        + "<p>" + "x".repeat(500) + "</p></body></html>";

    BitrixError error = BitrixErrorClassifier.classify(503, "text/html; charset=UTF-8", Buffer.buffer(page));

    assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
    assertTrue(error.description().startsWith(
        "HTML error page (503): 503 Service Temporarily Unavailable 503 Service Temporarily Unavailable"),
        error.description());
    assertFalse(error.description().contains("<"), error.description());
    assertFalse(error.description().contains("color"), error.description());
    assertTrue(error.description().length() < 250, error.description());
  }

  @Test
  void htmlIsRecognisedWithoutContentType() {
    BitrixError error = BitrixErrorClassifier.classify(502, null, "<html><body>Bad Gateway</body></html>");

    assertEquals(ErrorClass.AMBIGUOUS, error.errorClass());
    assertEquals("HTML error page (502): Bad Gateway", error.description());
  }

  @ParameterizedTest(name = "{0} with empty body -> {1}")
  @CsvSource({"200, AMBIGUOUS", "500, AMBIGUOUS", "503, AMBIGUOUS", "401, PORTAL_FAILURE", "404, PORTAL_FAILURE",
      "400, LEAD_REJECTED", "429, REFUSED"})
  void emptyBodies(int status, ErrorClass expected) {
    BitrixError error = BitrixErrorClassifier.classify(status, null, (Buffer) null);

    assertEquals(expected, error.errorClass());
    assertEquals("empty answer (" + status + ")", error.description());
    assertEquals(expected, BitrixErrorClassifier.classify(status, JSON, "  ").errorClass());
  }

  @ParameterizedTest(name = "{0} is a portal failure")
  @CsvSource({"301", "302", "307", "308"})
  void redirectsMeanThePortalMoved(int status) {
    BitrixError error = BitrixErrorClassifier.classify(status, "text/html", "<html><body>Moved</body></html>");

    assertEquals(ErrorClass.PORTAL_FAILURE, error.errorClass());
    assertEquals("redirected (" + status + "): the portal has moved or was renamed", error.description());
  }

  @Test
  void successStatusWithoutUsableResultIsAmbiguous() {
    assertEquals(ErrorClass.AMBIGUOUS, BitrixErrorClassifier.classify(200, JSON, "{\"time\":{}}").errorClass());
    BitrixError text = BitrixErrorClassifier.classify(200, "text/plain", "OK");
    assertEquals(ErrorClass.AMBIGUOUS, text.errorClass());
    assertEquals("non-JSON answer (200): OK", text.description());
    assertEquals(ErrorClass.AMBIGUOUS, BitrixErrorClassifier.classify(200, JSON, "[1,2]").errorClass());
    assertEquals(ErrorClass.AMBIGUOUS, BitrixErrorClassifier.classify(200, JSON, "{\"result\":").errorClass());
  }

  @Test
  void nothingSentMeansRefused() {
    assertEquals(ErrorClass.REFUSED,
        BitrixErrorClassifier.classify(new ConnectException("Connection refused")).errorClass());
    assertEquals(ErrorClass.REFUSED,
        BitrixErrorClassifier.classify(new ConnectTimeoutException("connection timed out")).errorClass());
    assertEquals(ErrorClass.REFUSED,
        BitrixErrorClassifier.classify(new UnknownHostException("portal.invalid")).errorClass());
    assertEquals(ErrorClass.REFUSED, BitrixErrorClassifier.classify(new NoStackTraceTimeoutException(
        "The timeout of 300 ms has been exceeded when getting a connection to x.bitrix24.ru:443")).errorClass());
    assertEquals(ErrorClass.REFUSED,
        BitrixErrorClassifier.classify(new VertxException(new ConnectException("refused"))).errorClass());
  }

  @Test
  void sentButUnansweredMeansAmbiguous() {
    BitrixError timeout = BitrixErrorClassifier.classify(new NoStackTraceTimeoutException(
        "The timeout period of 300ms has been exceeded while executing POST /rest/1/x/crm.lead.add.json"));
    assertEquals(ErrorClass.AMBIGUOUS, timeout.errorClass());
    assertNull(timeout.httpStatus());
    assertTrue(timeout.description().startsWith("no answer from the portal in time"), timeout.description());
    assertEquals(ErrorClass.AMBIGUOUS, BitrixErrorClassifier.classify(new TimeoutException()).errorClass());
    assertEquals(ErrorClass.AMBIGUOUS,
        BitrixErrorClassifier.classify(new HttpClosedException("Connection was closed")).errorClass());
    assertEquals(ErrorClass.AMBIGUOUS,
        BitrixErrorClassifier.classify(new IOException("Connection reset by peer")).errorClass());
    assertEquals(ErrorClass.AMBIGUOUS,
        BitrixErrorClassifier.classify(new SocketException("Connection reset")).errorClass());
    assertEquals(ErrorClass.AMBIGUOUS,
        BitrixErrorClassifier.classify(new IllegalStateException("something unforeseen")).errorClass());
  }

  @Test
  void tlsHandshakeFailuresSendNothingAndBadCertificatesNeedAPerson() {
    SSLHandshakeException badCertificate = new SSLHandshakeException("PKIX path building failed");
    badCertificate.initCause(new CertificateException("unable to find valid certification path"));

    assertEquals(ErrorClass.PORTAL_FAILURE, BitrixErrorClassifier.classify(badCertificate).errorClass());
    assertEquals(ErrorClass.REFUSED, BitrixErrorClassifier.classify(
        new SSLHandshakeException("Remote host terminated the handshake")).errorClass());
  }

  @Test
  void redactionRemovesTheWebhookCodeFromEveryText() {
    BitrixError error = BitrixErrorClassifier.classify(new NoStackTraceTimeoutException(
        "The timeout period of 300ms has been exceeded while executing POST /rest/1/s3cr3tc0de/crm.lead.add.json"));

    BitrixError redacted = error.redact("s3cr3tc0de");

    assertFalse(redacted.description().contains("s3cr3tc0de"));
    assertTrue(redacted.description().contains("/rest/1/***/crm.lead.add.json"), redacted.description());
    assertFalse(new BitrixException(redacted).getMessage().contains("s3cr3tc0de"));
  }

  @Test
  void reasonsSayWhatTheFailureMeansForTheLead() {
    assertEquals("Bitrix24 refused the request before creating anything (HTTP 503 QUERY_LIMIT_EXCEEDED: Too many "
        + "requests); the lead can be sent again later.", answer(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
        .reason());
    assertEquals("The portal cannot take leads until someone fixes its configuration (HTTP 401 NO_AUTH_FOUND: "
        + "Wrong authorization data).", answer(401, "NO_AUTH_FOUND", "Wrong authorization data").reason());
    assertTrue(answer(500, "INTERNAL_SERVER_ERROR", "Internal error").reason()
        .startsWith("The outcome is unknown and the lead may have been created"));
    assertEquals("lead_rejected", ErrorClass.LEAD_REJECTED.eventCode());
  }
}
