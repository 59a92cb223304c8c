package io.leadrelay.bitrix;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.atomic.AtomicReference;

/**
 * One HTTP request to a portal, bounded: a single deadline covers getting a connection, sending, the answer's
 * headers and its whole body, and the body may not grow past a cap, checked chunk by chunk as it streams in (a huge
 * answer is never held whole). Past either limit the connection is closed and the call fails with an
 * {@link AnswerLimitException}. Redirects are never followed here: the caller decides (a POST must not become a
 * GET, and not every host may be trusted with a lead).
 *
 * <p>Results are delivered on the caller's context, so the verticle's single-threaded state stays on its loop.
 */
final class PortalExchange {

  /**
   * Idle pooled connections are dropped well before typical server keep-alive limits, so a request rarely races the
   * server closing the connection under it (which would make its outcome ambiguous).
   */
  private static final int KEEP_ALIVE_SECONDS = 15;

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final int connectTimeoutMs;
  private final long deadlineMs;
  private final long maxAnswerBytes;

  PortalExchange(Vertx vertx, int connectTimeoutMs, long deadlineMs, long maxAnswerBytes, int poolSize) {
    this.vertx = vertx;
    this.connectTimeoutMs = connectTimeoutMs;
    this.deadlineMs = deadlineMs;
    this.maxAnswerBytes = maxAnswerBytes;
    HttpClientOptions options = new HttpClientOptions()
        .setConnectTimeout(connectTimeoutMs)
        .setKeepAlive(true)
        // Compression stays off (the default), so the cap counts the bytes that are actually held.
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS);
    this.client = vertx.httpClientBuilder().with(options).with(new PoolOptions().setHttp1MaxSize(poolSize)).build();
  }

  /** POSTs a JSON body to {@code url}. */
  Future<PortalAnswer> postJson(String url, Buffer json) {
    return exchange(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.ACCEPT, "application/json"), json);
  }

  /** GETs {@code url} (query included). */
  Future<PortalAnswer> get(String url) {
    return exchange(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url)
        .putHeader(HttpHeaders.ACCEPT, "application/json"), null);
  }

  void close() {
    client.close();
  }

  private Future<PortalAnswer> exchange(RequestOptions options, Buffer body) {
    Context caller = vertx.getOrCreateContext();
    Promise<PortalAnswer> outcome = Promise.promise();
    AtomicReference<HttpClientRequest> open = new AtomicReference<>();
    long timer = vertx.setTimer(deadlineMs, id -> {
      HttpClientRequest request = open.get();
      // Without a request object nothing has left yet: safe to send again. With one, it may have been sent.
      if (outcome.tryFail(new AnswerLimitException("no complete answer from the portal within " + deadlineMs
          + " ms" + (request == null ? " (no connection)" : ""), request != null)) && request != null) {
        request.reset();
      }
    });
    options.setConnectTimeout(connectTimeoutMs).setFollowRedirects(false).putHeader(HttpHeaders.USER_AGENT,
        "LeadRelay");
    client.request(options).onComplete(opened -> {
      if (opened.failed()) {
        outcome.tryFail(opened.cause());
        return;
      }
      HttpClientRequest request = opened.result();
      open.set(request);
      if (outcome.future().isComplete()) {
        request.reset();
        return;
      }
      Future<HttpClientResponse> sent = body == null ? request.send() : request.send(body);
      sent.onComplete(answered -> {
        if (answered.failed()) {
          outcome.tryFail(answered.cause());
        } else {
          read(request, answered.result(), outcome);
        }
      });
    });
    Promise<PortalAnswer> onCaller = Promise.promise();
    outcome.future().onComplete(ar -> {
      vertx.cancelTimer(timer);
      // Vert.x answers on the context that made the request, which is the caller's: hop only if it did not.
      if (Vertx.currentContext() == caller) {
        onCaller.handle(ar);
      } else {
        caller.runOnContext(v -> onCaller.handle(ar));
      }
    });
    return onCaller.future();
  }

  /** Streams the body in, refusing it as soon as it is (or says it will be) larger than the cap. */
  private void read(HttpClientRequest request, HttpClientResponse response, Promise<PortalAnswer> outcome) {
    String declared = response.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared != null && declared.trim().matches("\\d{1,18}") && Long.parseLong(declared.trim()) > maxAnswerBytes) {
      tooLarge(request, outcome);
      return;
    }
    Buffer collected = Buffer.buffer();
    response.exceptionHandler(outcome::tryFail);
    response.handler(chunk -> {
      if (outcome.future().isComplete()) {
        return;
      }
      if ((long) collected.length() + chunk.length() > maxAnswerBytes) {
        tooLarge(request, outcome);
        return;
      }
      collected.appendBuffer(chunk);
    });
    response.endHandler(v -> outcome.tryComplete(new PortalAnswer(response.statusCode(),
        response.getHeader(HttpHeaders.CONTENT_TYPE), response.getHeader(HttpHeaders.LOCATION), collected)));
  }

  private void tooLarge(HttpClientRequest request, Promise<PortalAnswer> outcome) {
    if (outcome.tryFail(new AnswerLimitException("the portal's answer is larger than the " + maxAnswerBytes
        + "-byte cap (BITRIX_MAX_ANSWER_BYTES)", true))) {
      request.reset();
    }
  }
}
