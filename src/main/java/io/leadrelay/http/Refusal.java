package io.leadrelay.http;

import io.vertx.core.json.JsonObject;

/**
 * Why a webhook request is refused: the HTTP status, a stable machine code and one sentence for a person.
 * Thrown by request validation; nothing refused is ever stored, mapped or sent to Bitrix24.
 */
public final class Refusal extends RuntimeException {

  private final int status;
  private final String code;

  public Refusal(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** The answer body: {@code {"ok":false,"error":code,"message":sentence}}. */
  public JsonObject toJson() {
    return new JsonObject().put("ok", false).put("error", code).put("message", getMessage());
  }
}
