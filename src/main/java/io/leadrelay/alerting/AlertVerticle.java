package io.leadrelay.alerting;

import io.leadrelay.Addresses;
import io.leadrelay.config.AlertChannels;
import io.leadrelay.config.AlertConfig;
import io.leadrelay.config.SmtpConfig;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.logging.SecretMasker;
import io.leadrelay.ops.Condition;
import io.leadrelay.ops.HealthReport;
import io.leadrelay.ops.PortalSnapshot;
import io.leadrelay.ops.RelayConditions;
import io.leadrelay.ops.RelaySnapshot;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.StartTLSOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells people when leads stop flowing: every few seconds it judges the relay's health with the same
 * {@link HealthReport} as {@code /health}, and it hears of every delivery that goes DEAD on this node. What to send
 * is {@link AlertDesk}'s decision (once per condition, digests, an hourly cap); sending is {@link AlertOutbox}'s
 * (bounded, retried, never in the way of deliveries). Portal conditions are alerted only by the portal's owner, so a
 * cluster tells them once.
 */
public final class AlertVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AlertVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  /** A part silent this many checks in a row is alerted; once could be a busy moment. */
  private static final int SILENT_CHECKS = 3;

  private final AlertConfig config;
  private final Clock clock;
  private final String node;
  private final Map<AlertChannels, List<AlertChannel>> channels = new LinkedHashMap<>();
  private AlertDesk desk;
  private AlertOutbox outbox;
  private HealthReport health;
  private WebClient client;
  private MailClient mail;
  private MessageConsumer<JsonObject> deadConsumer;
  private long checkTimer = -1;
  private boolean checking;
  /** Checks in a row in which a part did not answer. */
  private int silentChecks;

  /** @param node this node's name on a shared store (said in node-wide alerts); null on a single node */
  public AlertVerticle(AlertConfig config, String node, Clock clock) {
    this.config = config;
    this.node = node;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    desk = new AlertDesk(config.adminUrl(), config.maxPerHour(), config.deadAtOnce(), config.digestEvery(),
        node);
    health = new HealthReport(vertx, new RelayConditions(config.backlogAge()), clock);
    client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000).setIdleTimeout(30)
        .setFollowRedirects(false).setUserAgent("LeadRelay-alerts"));
    if (config.smtp().configured()) {
      mail = MailClient.create(vertx, mailConfig(config.smtp()));
    }
    outbox = new AlertOutbox((delay, task) -> vertx.setTimer(delay, id -> task.run()), FIRST_RETRY,
        new SecretMasker(secrets()), this::notSent);
    channels.put(config.channels(), channelsOf(config.channels()));
    config.byIntegration().values().forEach(own -> channels.computeIfAbsent(own, this::channelsOf));
    LOG.info("Alerts go to {}{}", config.channels().describe(), config.byIntegration().isEmpty() ? ""
        : "; integrations with their own: " + String.join(", ", config.byIntegration().keySet()));
    deadConsumer = vertx.eventBus().localConsumer(Addresses.LEAD_FAILED, this::failed);
    checkTimer = vertx.setPeriodic(config.checkEvery().toMillis(), id -> check());
    return deadConsumer.completion().onSuccess(v -> check());
  }

  private static MailConfig mailConfig(SmtpConfig smtp) {
    MailConfig mail = new MailConfig().setHostname(smtp.host()).setPort(smtp.port())
        .setSsl(smtp.port() == 465).setStarttls(StartTLSOptions.OPTIONAL)
        .setKeepAlive(false);
    if (smtp.user() != null) {
      // Credentials given: never send mail unauthenticated (the server would take it as from anyone).
      mail.setUsername(smtp.user()).setPassword(smtp.password()).setLogin(LoginOption.REQUIRED);
    } else {
      mail.setLogin(LoginOption.DISABLED);
    }
    return mail;
  }

  private List<AlertChannel> channelsOf(AlertChannels configured) {
    List<AlertChannel> list = new ArrayList<>();
    if (configured.webhookUrl() != null) {
      list.add(new WebhookChannel(client, configured.webhookUrl()));
    }
    if (configured.telegram()) {
      list.add(new TelegramChannel(client, configured.telegramApiUrl(), configured.telegramBotToken(),
          configured.telegramChatId()));
    }
    if (!configured.emailTo().isEmpty() && mail != null) {
      list.add(new EmailChannel(mail, config.smtp().from(), configured.emailTo()));
    }
    return list;
  }

  /** Looks at the conditions now; a check still running (a slow store) is not doubled. */
  private void check() {
    if (checking) {
      return;
    }
    checking = true;
    health.check().onComplete(checked -> {
      checking = false;
      if (checked.succeeded()) {
        observe(checked.result().conditions(), RelaySnapshot.fromParts(checked.result().parts()));
      }
      send(desk.tick(clock.instant()));
    });
  }

  /**
   * A part that did not answer says nothing about its conditions: they are neither over nor new, so the alerts stay
   * as they are (a busy node whose check timed out once must not send "resolved" and then the same alert again).
   * Only a part silent for {@link #SILENT_CHECKS} checks in a row is alerted, with what was known before.
   */
  private void observe(List<Condition> holding, RelaySnapshot snapshot) {
    List<Condition> silent = holding.stream()
        .filter(condition -> condition.kind() == Condition.Kind.PART_NOT_ANSWERING).toList();
    if (silent.isEmpty()) {
      silentChecks = 0;
      send(desk.observe(ownedHere(holding, snapshot), clock.instant()));
      return;
    }
    if (++silentChecks >= SILENT_CHECKS) {
      List<Condition> known = new ArrayList<>(desk.active().values());
      known.addAll(silent);
      send(desk.observe(known, clock.instant()));
    }
  }

  /** Node-wide conditions, and the portal conditions of the portals this node sends for. */
  private static List<Condition> ownedHere(List<Condition> conditions, RelaySnapshot snapshot) {
    Set<String> notOwned = new HashSet<>();
    for (PortalSnapshot portal : snapshot.portals()) {
      if (!portal.ownedHere()) {
        notOwned.add(portal.integration());
      }
    }
    return conditions.stream().filter(c -> c.integration() == null || !notOwned.contains(c.integration())).toList();
  }

  private void failed(Message<JsonObject> message) {
    DeadDelivery dead;
    try {
      dead = DeadDelivery.of(ErrorEvent.fromJson(message.body()));
    } catch (RuntimeException e) {
      return; // LogVerticle reports malformed announcements
    }
    if (dead != null) {
      send(desk.dead(dead, clock.instant()));
    }
  }

  private void send(List<Alert> alerts) {
    for (Alert alert : alerts) {
      outbox.offer(alert, channels.getOrDefault(config.channelsFor(alert.integration()), List.of()));
    }
  }

  /** error.log, and the console: an alert that does not arrive is itself worth a look. */
  private void notSent(ErrorEvent event) {
    LOG.warn("{} ({})", event.reason(), event.next());
    vertx.eventBus().publish(Addresses.ALERT_FAILED, event.toJson(), LOCAL);
  }

  /** Never in error.log: the channels' secrets (LogVerticle masks them too; this is the first line). */
  private Set<String> secrets() {
    Set<String> secrets = new HashSet<>();
    List<AlertChannels> all = new ArrayList<>(config.byIntegration().values());
    all.add(config.channels());
    for (AlertChannels each : all) {
      if (each.webhookUrl() != null) {
        secrets.add(each.webhookUrl().toString());
      }
      secrets.add(each.telegramBotToken());
    }
    secrets.addAll(smtpSecrets(config.smtp()));
    secrets.removeIf(s -> s == null || s.isBlank());
    return secrets;
  }

  /**
   * The SMTP password, and the forms it travels in: AUTH LOGIN sends it base64-encoded, AUTH PLAIN sends
   * base64("\0user\0password"). A server that echoes the refused command in its reply ("535 ... AUTH PLAIN
   * AHJl...") would otherwise put the decodable password into error.log through the channel's failure text.
   */
  static Set<String> smtpSecrets(SmtpConfig smtp) {
    Set<String> secrets = new HashSet<>();
    String password = smtp.password();
    if (password == null || password.isBlank()) {
      return secrets;
    }
    java.util.Base64.Encoder base64 = java.util.Base64.getEncoder();
    secrets.add(password);
    secrets.add(base64.encodeToString(password.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    if (smtp.user() != null) {
      secrets.add(base64.encodeToString(("\0" + smtp.user() + "\0" + password)
          .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    return secrets;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(checkTimer);
    if (outbox != null) {
      outbox.close();
    }
    List<Future<?>> closed = new ArrayList<>();
    if (deadConsumer != null) {
      closed.add(deadConsumer.unregister());
    }
    if (client != null) {
      client.close();
    }
    if (mail != null) {
      closed.add(mail.close());
    }
    return Future.join(closed);
  }
}
