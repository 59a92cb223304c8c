package io.leadrelay.logging;

import io.leadrelay.Addresses;
import io.leadrelay.config.LogConfig;
import io.leadrelay.logging.LogFiles.Kind;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Writes what the relay announces on the bus into webhook.log, success.log and error.log, one JSON object per
 * line, with every known secret masked. Deploy it as a worker: opening and writing files blocks.
 */
public final class LogVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(LogVerticle.class);

  private final LogConfig config;
  private final SecretMasker masker;
  private LogFiles files;
  private List<MessageConsumer<JsonObject>> consumers = List.of();

  /**
   * @param secrets every secret the relay knows (webhook secrets, Bitrix24 webhook codes, tokens); blank ones are
   *                ignored
   */
  public LogVerticle(LogConfig config, Set<String> secrets) {
    this.config = config;
    this.masker = new SecretMasker(secrets);
  }

  @Override
  public Future<?> start() {
    try {
      files = LogFiles.open(config);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    EventBus bus = vertx.eventBus();
    consumers = List.of(
        bus.consumer(Addresses.WEBHOOK_RECEIVED, m -> write(Kind.WEBHOOK, m, LogLines::webhook)),
        bus.consumer(Addresses.LEAD_CREATED, m -> write(Kind.SUCCESS, m, json -> LogLines.success(json, now()))),
        bus.consumer(Addresses.LEAD_FAILED, m -> write(Kind.ERROR, m, json -> LogLines.error(json, now()))),
        bus.consumer(Addresses.REQUEST_REFUSED, m -> write(Kind.ERROR, m, json -> LogLines.error(json, now()))),
        bus.consumer(Addresses.HEALTH_LOGS, m -> m.reply(health())));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .onFailure(e -> files.close());
  }

  @Override
  public Future<?> stop() {
    // Stop taking lines first, then drain the queues into the files: nothing published before stop is lost.
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList())
        .eventually(() -> vertx.executeBlocking(() -> {
          if (files != null) {
            files.close();
          }
          return null;
        }));
  }

  private void write(Kind kind, Message<JsonObject> message, Function<JsonObject, JsonObject> toLine) {
    String line;
    try {
      line = masker.mask(toLine.apply(message.body())).encode();
    } catch (RuntimeException e) {
      // A malformed announcement is a bug in its producer; say so without echoing its content.
      LOG.warn("Ignored a malformed message on {}: {}", message.address(),
          masker.mask(e.getClass().getSimpleName() + ": " + e.getMessage()));
      return;
    }
    if (masker.reveals(line)) {
      // Only reachable when a secret spans JSON syntax (quotes, escapes): secrecy wins over a well-formed line.
      line = masker.mask(line);
    }
    files.append(kind, line);
  }

  private JsonObject health() {
    JsonObject health = new JsonObject();
    files.problem().ifPresentOrElse(
        reason -> health.put("status", "DOWN").put("dir", files.dir().toString()).put("reason", reason),
        () -> health.put("status", "UP").put("dir", files.dir().toString()));
    return health;
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }
}
