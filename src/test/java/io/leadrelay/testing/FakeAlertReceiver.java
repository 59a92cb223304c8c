package io.leadrelay.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where alerts land in tests, on one loopback port: an incoming webhook (Slack/Mattermost style, takes
 * {@code {"text": ...}} and answers 200 "ok") and the Telegram Bot API's {@code sendMessage}, answered like the real
 * one: {@code {"ok":true,"result":{message}}}, 404 {@code {"ok":false,...,"description":"Not Found"}} for a wrong
 * token, and on request 429 "Too Many Requests" with {@code parameters.retry_after}, as Telegram limits a bot.
 */
public final class FakeAlertReceiver {

  /** The incoming webhook's path: its last segment is the key, as in Slack's URLs (a secret). */
  public static final String WEBHOOK_PATH = "/hooks/T0TEST/B0TEST/test-hook-key-x";
  public static final String BOT_TOKEN = "4242:test-bot-token-do-not-use-x";
  public static final String CHAT_ID = "-1001234567";

  private final HttpServer server;
  private final List<String> webhookTexts = new CopyOnWriteArrayList<>();
  private final List<JsonObject> telegramMessages = new CopyOnWriteArrayList<>();
  private final AtomicInteger telegramCalls = new AtomicInteger();
  private final AtomicInteger throttleNext = new AtomicInteger();
  private final AtomicInteger messageIds = new AtomicInteger(100);

  private FakeAlertReceiver(HttpServer server) {
    this.server = server;
  }

  public static Future<FakeAlertReceiver> start(Vertx vertx) {
    FakeAlertReceiver[] receiver = new FakeAlertReceiver[1];
    HttpServer server = vertx.createHttpServer().requestHandler(request -> receiver[0].handle(request));
    receiver[0] = new FakeAlertReceiver(server);
    return server.listen(0, "127.0.0.1").map(listening -> receiver[0]);
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      if (request.path().equals(WEBHOOK_PATH)) {
        webhookTexts.add(body.toJsonObject().getString("text"));
        request.response().putHeader("Content-Type", "text/plain").end("ok");
      } else if (request.path().equals("/bot" + BOT_TOKEN + "/sendMessage")) {
        telegramCalls.incrementAndGet();
        if (throttleNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          telegram(request, 429, new JsonObject().put("ok", false).put("error_code", 429)
              .put("description", "Too Many Requests: retry after 1")
              .put("parameters", new JsonObject().put("retry_after", 1)));
          return;
        }
        JsonObject sent = body.toJsonObject();
        telegramMessages.add(sent);
        telegram(request, 200, new JsonObject().put("ok", true).put("result", new JsonObject()
            .put("message_id", messageIds.incrementAndGet())
            .put("from", new JsonObject().put("id", 4242).put("is_bot", true).put("first_name", "LeadRelay alerts")
                .put("username", "leadrelay_test_bot"))
            .put("chat", new JsonObject().put("id", Long.parseLong(sent.getString("chat_id")))
                .put("title", "Leads").put("type", "supergroup"))
            .put("date", System.currentTimeMillis() / 1000)
            .put("text", sent.getString("text"))));
      } else if (request.path().startsWith("/bot")) {
        telegram(request, 404, new JsonObject().put("ok", false).put("error_code", 404)
            .put("description", "Not Found"));
      } else {
        request.response().setStatusCode(404).end();
      }
    });
  }

  private static void telegram(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  public String webhookUrl() {
    return "http://127.0.0.1:" + server.actualPort() + WEBHOOK_PATH;
  }

  public String telegramApiUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** The next {@code calls} sendMessage calls are refused with 429 and retry_after 1. */
  public void throttleTelegram(int calls) {
    throttleNext.set(calls);
  }

  public List<String> webhookTexts() {
    return List.copyOf(webhookTexts);
  }

  /** The texts of the messages Telegram took. */
  public List<String> telegramTexts() {
    return telegramMessages.stream().map(m -> m.getString("text")).toList();
  }

  public List<JsonObject> telegramMessages() {
    return List.copyOf(telegramMessages);
  }

  public int telegramCalls() {
    return telegramCalls.get();
  }

  public Future<Void> close() {
    return server.close();
  }
}
