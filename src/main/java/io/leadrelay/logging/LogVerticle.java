package io.leadrelay.logging;

import io.leadrelay.Addresses;
import io.leadrelay.metrics.RelayMetrics;
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
  private final WholeLineFileAppender.Opener opener;
  private LogFiles files;
  private long retentionTimer = -1;
  /** How often old rolled files are looked for (and once at start). */
  private static final long RETENTION_EVERY_MS = 10 * 60 * 1000;
  private List<MessageConsumer<JsonObject>> consumers = List.of();
  private final RelayMetrics metrics;

  /**
   * @param secrets every secret the relay knows (webhook secrets, Bitrix24 webhook codes, tokens); blank ones are
   *                ignored
   */
  public LogVerticle(LogConfig config, Set<String> secrets) {
    this(config, secrets, LineOutput::open, RelayMetrics.NONE);
  }

  /** As above, with each file's write queue depth in {@code metrics}. */
  public LogVerticle(LogConfig config, Set<String> secrets, RelayMetrics metrics) {
    this(config, secrets, LineOutput::open, metrics);
  }

  /** With the files opened by {@code opener}: tests simulate a full disk with it. */
  LogVerticle(LogConfig config, Set<String> secrets, WholeLineFileAppender.Opener opener) {
    this(config, secrets, opener, RelayMetrics.NONE);
  }

  private LogVerticle(LogConfig config, Set<String> secrets, WholeLineFileAppender.Opener opener,
                      RelayMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.masker = new SecretMasker(secrets);
    this.opener = opener;
  }

  @Override
  public Future<?> start() {
    try {
      files = LogFiles.open(config, opener);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    for (Kind kind : Kind.values()) {
      metrics.logQueue(kind.name().toLowerCase(java.util.Locale.ROOT), files, open -> open.queued(kind));
    }
    long totalSizeCap = ch.qos.logback.core.util.FileSize.valueOf(config.totalSizeCap()).getSize();
    // A worker verticle: its timers run on a worker thread, where deleting files may block.
    retentionTimer = vertx.setPeriodic(0, RETENTION_EVERY_MS, id -> applyRetention(totalSizeCap));
    EventBus bus = vertx.eventBus();
    consumers = List.of(
        bus.localConsumer(Addresses.WEBHOOK_RECEIVED, m -> write(Kind.WEBHOOK, m, LogLines::webhook)),
        bus.localConsumer(Addresses.LEAD_CREATED, m -> write(Kind.SUCCESS, m, json -> LogLines.success(json, now()))),
        bus.localConsumer(Addresses.LEAD_FAILED, m -> write(Kind.ERROR, m, json -> LogLines.error(json, now()))),
        bus.localConsumer(Addresses.REQUEST_REFUSED, m -> write(Kind.ERROR, m, json -> LogLines.error(json, now()))),
        bus.localConsumer(Addresses.ALERT_FAILED, m -> write(Kind.ERROR, m, json -> LogLines.error(json, now()))),
        bus.localConsumer(Addresses.HEALTH_LOGS, m -> m.reply(health())));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .onFailure(e -> files.close());
  }

  private void applyRetention(long totalSizeCap) {
    try {
      int deleted = LogRetention.apply(files.dir(), config.maxDays(), totalSizeCap,
          java.time.LocalDate.now(java.time.ZoneOffset.UTC));
      if (deleted > 0) {
        LOG.info("Deleted {} rolled log file(s) past {} days or {} in all", deleted, config.maxDays(),
            config.totalSizeCap());
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("Could not clean up old log files in {}: {}", files.dir(), e.toString());
    }
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(retentionTimer);
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

  /**
   * DOWN when the files cannot be written at all, DEGRADED while lines are being dropped (the last write failed, e.g.
   * a full disk): the relay still delivers leads, but their record is lost. The count of dropped lines stays after
   * writing works again.
   */
  private JsonObject health() {
    JsonObject health = new JsonObject().put("status", "UP").put("dir", files.dir().toString())
        .put("droppedLines", files.droppedLines());
    if (files.dropping()) {
      health.put("status", "DEGRADED")
          .put("reason", "log lines are being dropped (" + files.lastWriteError() + ")");
    }
    files.problem().ifPresent(reason -> health.put("status", "DOWN").put("reason", reason));
    return health;
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }
}
