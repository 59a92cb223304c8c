package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Creates the leads sent to {@link Addresses#LEAD_DELIVER} in their integration's Bitrix24 portal (or only
 * announces them in dry-run) and announces every outcome on {@link Addresses#LEAD_CREATED} /
 * {@link Addresses#LEAD_FAILED}. Leads for one portal go through that portal's {@link PortalQueue}.
 * Answers {@link Addresses#HEALTH_BITRIX}. No retries yet: a failure is announced once.
 */
public class BitrixVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Map<String, IntegrationConfig> integrations;
  private final BitrixHttpConfig http;
  private final Map<PortalConfig, PortalQueue> queues = new LinkedHashMap<>();
  private final Map<String, IntegrationStatus> statuses = new LinkedHashMap<>();
  private BitrixClient client;

  public BitrixVerticle(Map<String, IntegrationConfig> integrations, BitrixHttpConfig http) {
    this.integrations = Map.copyOf(integrations);
    this.http = http;
  }

  @Override
  public Future<?> start() {
    client = new BitrixClient(vertx, http);
    integrations.keySet().stream().sorted().forEach(name -> {
      IntegrationConfig integration = integrations.get(name);
      statuses.put(name, new IntegrationStatus());
      if (integration.dryRun()) {
        LOG.info("Integration {}: dry-run, leads are logged and not sent to Bitrix24", name);
        return;
      }
      PortalConfig portal = integration.portal().orElseThrow();
      queues.computeIfAbsent(portal, this::newQueue);
      LOG.info("Integration {}: sends leads to {}", name, portal.masked());
    });
    MessageConsumer<JsonObject> deliver = vertx.eventBus().consumer(Addresses.LEAD_DELIVER, this::deliver);
    MessageConsumer<JsonObject> health = vertx.eventBus().consumer(Addresses.HEALTH_BITRIX,
        message -> message.reply(health()));
    return Future.all(deliver.completion(), health.completion());
  }

  @Override
  public Future<?> stop() {
    if (client != null) {
      client.close();
    }
    return Future.succeededFuture();
  }

  private PortalQueue newQueue(PortalConfig portal) {
    if (portal.insecure()) {
      LOG.warn("Bitrix24 portal {} is plain http: its webhook code travels unencrypted", portal.masked());
    }
    return new PortalQueue(http.maxConcurrentPerPortal(),
        command -> client.addLead(portal, command.addRequestBody()));
  }

  private void deliver(Message<JsonObject> message) {
    LeadCommand command;
    try {
      command = LeadCommand.fromJson(message.body());
    } catch (RuntimeException e) {
      LOG.error("Dropped a malformed lead command: {}", e.toString());
      return;
    }
    IntegrationConfig integration = integrations.get(command.integration());
    if (integration == null) {
      publishFailure(new ErrorEvent("bitrix", command.deliveryId(), command.integration(), "unknown_integration",
          "No integration named '" + command.integration() + "' is configured, so the lead was not sent.",
          null, null, null, null));
      return;
    }
    if (integration.dryRun()) {
      publishCreated(new LeadCreated(command.deliveryId(), command.integration(), null, true, elapsedMs(command),
          "dry-run", command.fields()));
      return;
    }
    PortalConfig portal = integration.portal().orElseThrow();
    IntegrationStatus status = statuses.get(command.integration());
    queues.get(portal).submit(command).onComplete(ar -> {
      if (ar.succeeded()) {
        status.succeeded(Instant.now());
        publishCreated(new LeadCreated(command.deliveryId(), command.integration(), ar.result(), false,
            elapsedMs(command), portal.masked(), null));
      } else {
        BitrixError error = errorOf(ar.cause(), portal);
        status.failed(error, Instant.now());
        publishFailure(new ErrorEvent("bitrix", command.deliveryId(), command.integration(),
            error.errorClass().eventCode(), error.reason(), error.errorClass().name(), error.httpStatus(),
            error.code(), null));
      }
    });
  }

  private JsonObject health() {
    JsonObject portals = new JsonObject();
    statuses.forEach((name, status) -> {
      PortalConfig portal = integrations.get(name).portal().orElse(null);
      portals.put(name, status.toJson(portal == null ? null : portal.masked(),
          portal == null ? null : queues.get(portal)));
    });
    return new JsonObject().put("status", "UP").put("portals", portals);
  }

  private static BitrixError errorOf(Throwable failure, PortalConfig portal) {
    // The client only fails with BitrixException; anything else is a bug, still classified and redacted.
    return failure instanceof BitrixException known
        ? known.error()
        : BitrixErrorClassifier.classify(failure).redact(portal.secretCode());
  }

  private static long elapsedMs(LeadCommand command) {
    return Math.max(0, Duration.between(command.receivedAt(), Instant.now()).toMillis());
  }

  private void publishCreated(LeadCreated created) {
    vertx.eventBus().publish(Addresses.LEAD_CREATED, created.toJson(), LOCAL);
  }

  private void publishFailure(ErrorEvent event) {
    vertx.eventBus().publish(Addresses.LEAD_FAILED, event.toJson(), LOCAL);
  }
}
