package io.leadrelay.alerting;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;

import java.net.URI;

/**
 * A JSON webhook: {@code POST {"text": "..."}}, the shape Slack and Mattermost incoming webhooks take (other
 * receivers read the same field). Any 2xx is taken. The URL is a secret (Slack's carries its key in the path).
 */
final class WebhookChannel implements AlertChannel {

  private final WebClient client;
  private final URI url;

  WebhookChannel(WebClient client, URI url) {
    this.client = client;
    this.url = url;
  }

  @Override
  public Future<Void> send(Alert alert) {
    return client.postAbs(url.toString())
        .sendJsonObject(new JsonObject().put("text", alert.message()))
        .transform(sent -> {
          if (sent.failed()) {
            return Future.failedFuture(new NotSent("could not be reached ("
                + sent.cause().getClass().getSimpleName() + ")", null));
          }
          int status = sent.result().statusCode();
          return status / 100 == 2 ? Future.succeededFuture()
              : Future.failedFuture(new NotSent("answered HTTP " + status, null));
        });
  }

  @Override
  public String describe() {
    return "the alert webhook " + url.getScheme() + "://" + url.getAuthority() + "/***";
  }
}
