package io.leadrelay.alerting;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.net.URI;
import java.time.Duration;

/**
 * A Telegram chat, through the Bot API's {@code sendMessage}. The text goes as plain text (no parse mode), so
 * nothing in it is read as markup. Taken only when Telegram answers {@code {"ok":true,...}}; a 429 says how long
 * to wait ({@code parameters.retry_after}). The bot token is in the URL's path: the URL is never shown.
 */
final class TelegramChannel implements AlertChannel {

  private final WebClient client;
  private final String sendMessageUrl;
  private final String chatId;
  private final String apiHost;

  TelegramChannel(WebClient client, URI api, String botToken, String chatId) {
    this.client = client;
    String base = api.toString().endsWith("/") ? api.toString() : api + "/";
    this.sendMessageUrl = base + "bot" + botToken + "/sendMessage";
    this.chatId = chatId;
    this.apiHost = api.getScheme() + "://" + api.getAuthority();
  }

  @Override
  public Future<Void> send(Alert alert) {
    JsonObject message = new JsonObject().put("chat_id", chatId).put("text", alert.message())
        .put("disable_web_page_preview", true);
    return client.postAbs(sendMessageUrl).sendJsonObject(message).transform(sent -> {
      if (sent.failed()) {
        return Future.failedFuture(new NotSent(apiHost + " could not be reached ("
            + sent.cause().getClass().getSimpleName() + ")", null));
      }
      return answer(sent.result());
    });
  }

  private Future<Void> answer(HttpResponse<Buffer> response) {
    JsonObject body;
    try {
      body = response.bodyAsJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (response.statusCode() == 200 && body != null && body.getBoolean("ok", false)) {
      return Future.succeededFuture();
    }
    Duration retryAfter = null;
    JsonObject parameters = body == null ? null : body.getJsonObject("parameters");
    if (parameters != null && parameters.getInteger("retry_after") != null) {
      retryAfter = Duration.ofSeconds(parameters.getInteger("retry_after"));
    }
    // Telegram's description ("Bad Request: chat not found", "Unauthorized") names no secret; it says what to fix.
    String description = body == null ? null : body.getString("description");
    return Future.failedFuture(new NotSent("Telegram answered HTTP " + response.statusCode()
        + (description == null ? "" : " (" + description + ")"), retryAfter));
  }

  @Override
  public String describe() {
    return "Telegram chat " + chatId;
  }
}
