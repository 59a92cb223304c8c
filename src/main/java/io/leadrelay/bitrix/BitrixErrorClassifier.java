package io.leadrelay.bitrix;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Turns a Bitrix24 answer that is not a success, or a transport failure, into a {@link BitrixError}
 * (reference: bitrix24-rest.md §3). Classification is by what the portal means, and the rule is:
 * <ul>
 *   <li>a problem of the portal or of its credentials (every lead would get the same answer) pauses the portal:
 *       {@link ErrorClass#PORTAL_FAILURE};</li>
 *   <li>a problem of this lead's data kills this lead only: {@link ErrorClass#LEAD_REJECTED};</li>
 *   <li>a failure that "may have run" (the method started, then broke) is {@link ErrorClass#AMBIGUOUS}: the lead
 *       is looked up before it is added again;</li>
 *   <li>a refusal before anything ran is {@link ErrorClass#REFUSED}.</li>
 * </ul>
 * Error codes decide first (case-insensitive), then the HTTP status, because one status carries codes of different
 * classes (503: QUERY_LIMIT_EXCEEDED and OVERLOAD_LIMIT) and one code carries different meanings by status or text
 * (INVALID_REQUEST "Https required.", ERROR_CORE "SQL query error!", an empty code with "Access denied.": see
 * {@link #portalMeaning}). The same rules apply to each command of a batch ({@link BatchResult}).
 * Pure: no I/O, no secrets (callers redact the webhook code from the result).
 */
public final class BitrixErrorClassifier {

  private static final int SNIPPET_LENGTH = 200;

  private static final Map<String, ErrorClass> BY_CODE = Map.ofEntries(
      Map.entry("QUERY_LIMIT_EXCEEDED", ErrorClass.REFUSED),
      Map.entry("OPERATION_TIME_LIMIT", ErrorClass.REFUSED),
      Map.entry("INTERNAL_SERVER_ERROR", ErrorClass.AMBIGUOUS),
      Map.entry("ERROR_UNEXPECTED_ANSWER", ErrorClass.AMBIGUOUS),
      Map.entry("ERROR_CORE", ErrorClass.LEAD_REJECTED),
      Map.entry("INVALID_REQUEST", ErrorClass.LEAD_REJECTED),
      Map.entry("NO_AUTH_FOUND", ErrorClass.PORTAL_FAILURE),
      Map.entry("INVALID_TOKEN", ErrorClass.PORTAL_FAILURE),
      // No OAuth yet: an expired token cannot be refreshed, so a person has to act.
      Map.entry("EXPIRED_TOKEN", ErrorClass.PORTAL_FAILURE),
      Map.entry("ACCESS_DENIED", ErrorClass.PORTAL_FAILURE),
      Map.entry("INVALID_CREDENTIALS", ErrorClass.PORTAL_FAILURE),
      Map.entry("INSUFFICIENT_SCOPE", ErrorClass.PORTAL_FAILURE),
      Map.entry("USER_ACCESS_ERROR", ErrorClass.PORTAL_FAILURE),
      Map.entry("ERROR_METHOD_NOT_FOUND", ErrorClass.PORTAL_FAILURE),
      Map.entry("OVERLOAD_LIMIT", ErrorClass.PORTAL_FAILURE),
      Map.entry("PORTAL_DELETED", ErrorClass.PORTAL_FAILURE),
      Map.entry("PAYMENT_REQUIRED", ErrorClass.PORTAL_FAILURE));

  private BitrixErrorClassifier() {
  }

  /** Classifies an answer that was not a success (any status, any body; a null body counts as empty). */
  public static BitrixError classify(int status, String contentType, Buffer body) {
    return classify(status, contentType, body == null ? null : body.toString());
  }

  /** Classifies an answer that was not a success (any status, any body; a null body counts as empty). */
  public static BitrixError classify(int status, String contentType, String body) {
    JsonObject json = parseObject(body);
    if (json == null) {
      return classifyWithoutJson(status, contentType, body);
    }
    Object error = json.getValue("error");
    if (error != null) {
      String code = String.valueOf(error);
      String description = json.getValue("error_description") == null
          ? "" : String.valueOf(json.getValue("error_description"));
      ErrorClass known = BY_CODE.get(code.toUpperCase(Locale.ROOT));
      if (known == null && code.toUpperCase(Locale.ROOT).startsWith("ERROR_BATCH_")) {
        known = ErrorClass.LEAD_REJECTED;
      }
      ErrorClass meaning = portalMeaning(code, description, status);
      ErrorClass errorClass = meaning != null ? meaning : known != null ? known : byStatus(status);
      Instant retryAt = "OPERATION_TIME_LIMIT".equalsIgnoreCase(code) ? operatingResetAt(json) : null;
      return new BitrixError(errorClass, status, code, description, retryAt);
    }
    if (status >= 200 && status < 300) {
      return new BitrixError(ErrorClass.AMBIGUOUS, status, null, "the answer has no result");
    }
    return new BitrixError(byStatus(status), status, null, "JSON answer without an error code");
  }

  /**
   * The answers whose code alone says the wrong thing: the text or status shows they are about the portal, or
   * about a method that had already started. Null when the code's usual class holds.
   * <ul>
   *   <li>401 INVALID_REQUEST "Https required.": the portal refuses plain-http calls to a valid webhook (a
   *       self-hosted portal configured with http://). Every lead would get it: the portal is paused.</li>
   *   <li>An empty code with "Access denied.": the webhook's user may not add leads (a CRM permission). The data is
   *       not at fault and every lead would get it: the portal is paused.</li>
   *   <li>ERROR_CORE "SQL query error!" (or any ERROR_CORE with a 5xx): Bitrix24's REST module answers a database
   *       exception thrown while the method ran this way (Bitrix\Rest\RestException::initFromException:
   *       {@code new self("SQL query error!", self::ERROR_CORE, CRestServer::STATUS_INTERNAL)}, i.e. 500). The
   *       lead may have been written before it broke: ambiguous. Inside a batch the command has no status of its
   *       own, so the text decides there.</li>
   * </ul>
   */
  static ErrorClass portalMeaning(String code, String description, int status) {
    String upper = code == null ? "" : code.trim().toUpperCase(Locale.ROOT);
    String text = description == null ? "" : description.trim().toLowerCase(Locale.ROOT);
    if (upper.equals("INVALID_REQUEST") && (status == 401 || text.startsWith("https required"))) {
      return ErrorClass.PORTAL_FAILURE;
    }
    if (upper.isEmpty() && (text.equals("access denied.") || text.equals("access denied"))) {
      return ErrorClass.PORTAL_FAILURE;
    }
    if (upper.equals("ERROR_CORE") && (status >= 500 || text.startsWith("sql query error"))) {
      return ErrorClass.AMBIGUOUS;
    }
    return null;
  }

  /**
   * Classifies a failure to get any answer. The question is whether the request may have reached the portal:
   * if it cannot have (no connection), resending is safe; otherwise the lead may exist.
   */
  public static BitrixError classify(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      BitrixError known = classifyOne(t);
      if (known != null) {
        return known;
      }
    }
    return new BitrixError(ErrorClass.AMBIGUOUS, null, null, "request failed: " + describe(failure));
  }

  private static BitrixError classifyOne(Throwable t) {
    if (t instanceof AnswerLimitException limit) {
      // Cut off by our own deadline or size cap: once the request left, the lead may exist.
      return transport(limit.sent() ? ErrorClass.AMBIGUOUS : ErrorClass.REFUSED, limit.getMessage());
    }
    // Netty's ConnectTimeoutException and AnnotatedConnectException ("Connection refused") are ConnectExceptions.
    if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
      return transport(ErrorClass.REFUSED, "could not connect to the portal: " + describe(t));
    }
    if (t instanceof UnknownHostException) {
      return transport(ErrorClass.REFUSED, "the portal's host name could not be resolved: " + describe(t));
    }
    if (t instanceof TimeoutException) {
      // Vert.x uses the same exception for both; only the text tells waiting for a connection (nothing was sent)
      // from waiting for the answer (the request was sent).
      String message = String.valueOf(t.getMessage());
      if (message.contains("getting a connection")) {
        return transport(ErrorClass.REFUSED, "timed out connecting to the portal: " + describe(t));
      }
      return transport(ErrorClass.AMBIGUOUS, "no answer from the portal in time: " + describe(t));
    }
    if (t instanceof SSLHandshakeException) {
      // The handshake comes before the request: nothing was sent. A bad certificate will not heal by itself.
      boolean certificate = hasCause(t, CertificateException.class)
          || String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("certificat");
      return transport(certificate ? ErrorClass.PORTAL_FAILURE : ErrorClass.REFUSED,
          "TLS handshake with the portal failed: " + describe(t));
    }
    if (t instanceof SSLException) {
      return transport(ErrorClass.AMBIGUOUS, "TLS error while talking to the portal: " + describe(t));
    }
    if (t instanceof HttpClosedException) {
      return transport(ErrorClass.AMBIGUOUS, "the portal closed the connection before answering");
    }
    if (t instanceof IOException) {
      return transport(ErrorClass.AMBIGUOUS, "connection to the portal failed: " + describe(t));
    }
    return null;
  }

  private static BitrixError classifyWithoutJson(int status, String contentType, String body) {
    String description;
    if (status >= 300 && status < 400) {
      // The Location is left out: it repeats the webhook path, code included.
      description = "redirected (" + status + "): the portal has moved or was renamed";
    } else if (body == null || body.isBlank()) {
      description = "empty answer (" + status + ")";
    } else if (isHtml(contentType, body)) {
      description = "HTML error page (" + status + "): " + snippet(stripTags(body));
    } else {
      description = "non-JSON answer (" + status + "): " + snippet(body);
    }
    ErrorClass errorClass;
    if (status >= 200 && status < 300) {
      errorClass = ErrorClass.AMBIGUOUS;
    } else if (status == 404) {
      // Bitrix24 answers its own 404s in JSON; a page from the web server means the URL points to no portal.
      errorClass = ErrorClass.PORTAL_FAILURE;
    } else {
      errorClass = byStatus(status);
    }
    return new BitrixError(errorClass, status, null, description);
  }

  private static ErrorClass byStatus(int status) {
    if (status >= 300 && status < 400) {
      // A redirect that reaches here was not followed (nowhere usable, or not allowed): a person must look.
      return ErrorClass.PORTAL_FAILURE;
    }
    if (status == 401 || status == 403) {
      return ErrorClass.PORTAL_FAILURE;
    }
    if (status == 429) {
      return ErrorClass.REFUSED;
    }
    if (status >= 400 && status < 500) {
      return ErrorClass.LEAD_REJECTED;
    }
    return ErrorClass.AMBIGUOUS;
  }

  private static Instant operatingResetAt(JsonObject json) {
    Object time = json.getValue("time");
    if (!(time instanceof JsonObject block)) {
      return null;
    }
    Object resetAt = block.getValue("operating_reset_at");
    try {
      if (resetAt instanceof Number number) {
        return Instant.ofEpochMilli((long) (number.doubleValue() * 1000));
      }
      if (resetAt instanceof String text && !text.isBlank()) {
        return Instant.ofEpochMilli((long) (Double.parseDouble(text.trim()) * 1000));
      }
    } catch (NumberFormatException e) {
      return null;
    }
    return null;
  }

  private static JsonObject parseObject(String body) {
    if (body == null || body.isBlank() || !body.stripLeading().startsWith("{")) {
      return null;
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private static boolean isHtml(String contentType, String body) {
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).contains("html")) {
      return true;
    }
    String start = body.stripLeading().toLowerCase(Locale.ROOT);
    return start.startsWith("<!doctype html") || start.startsWith("<html");
  }

  private static String stripTags(String html) {
    return html
        .replaceAll("(?is)<(script|style)[^>]*>.*?</\\1>", " ")
        .replaceAll("(?s)<[^>]*>", " ");
  }

  private static String snippet(String text) {
    String flat = text.replaceAll("\\s+", " ").trim();
    return flat.length() <= SNIPPET_LENGTH ? flat : flat.substring(0, SNIPPET_LENGTH) + "…";
  }

  private static BitrixError transport(ErrorClass errorClass, String description) {
    return new BitrixError(errorClass, null, null, description);
  }

  private static String describe(Throwable t) {
    String message = t.getMessage();
    String name = t.getClass().getSimpleName();
    return message == null || message.isBlank() ? name : snippet(message);
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
