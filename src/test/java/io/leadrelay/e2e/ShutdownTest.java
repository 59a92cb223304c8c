package io.leadrelay.e2e;

import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stopping while BotHelp is still sending (a redeploy under traffic): every webhook answered 200 keeps its
 * webhook.log line. Undeploying everything at once took the log verticle away while the endpoint still answered.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ShutdownTest {

  @TempDir
  Path dir;

  @Test
  void everyWebhookAnswered200DuringAStopKeepsItsWebhookLine(Vertx vertx, VertxTestContext ctx) {
    TestRelay.startWithPortal(vertx, dir).compose(relay -> {
      List<Future<String>> answers = new ArrayList<>();
      Promise<Void> someAnswered = Promise.promise();
      for (int i = 0; i < 300; i++) {
        Future<String> answer = relay.postJson("{\"name\":\"Лид " + i + "\"}")
            .map(response -> response.statusCode() == 200 ? response.bodyAsJsonObject().getString("id") : null)
            .otherwise((String) null);
        if (i == 20) {
          answer.onComplete(done -> someAnswered.tryComplete());
        }
        answers.add(answer);
      }
      return someAnswered.future()
          .compose(stopNow -> relay.relay().stop())
          .compose(stopped -> Future.join(answers))
          .map(all -> {
            Set<String> accepted = answers.stream().map(Future::result).filter(id -> id != null)
                .collect(Collectors.toSet());
            Set<String> logged = relay.lines("webhook").stream().map(line -> line.getString("id"))
                .collect(Collectors.toSet());
            ctx.verify(() -> {
              assertTrue(!accepted.isEmpty(), "some webhooks were accepted before the stop");
              Set<String> missing = accepted.stream().filter(id -> !logged.contains(id)).collect(Collectors.toSet());
              assertTrue(missing.isEmpty(), missing.size() + " of " + accepted.size()
                  + " accepted webhooks have no webhook.log line: " + missing);
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
