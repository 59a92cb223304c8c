package io.leadrelay.mapping;

import io.leadrelay.Addresses;
import io.leadrelay.BusCodec;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.store.Delivery;
import io.leadrelay.store.DeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wires the mapping to the bus: an accepted delivery comes in on {@link Addresses#DELIVERY_MAP}, its lead goes
 * out to {@link Addresses#LEAD_DELIVER}. A delivery that cannot be mapped is announced on
 * {@link Addresses#LEAD_FAILED} so that error.log shows it; the delivery store still holds it for a replay.
 */
public class MappingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(MappingVerticle.class);

  static final String STAGE = "mapping";
  static final String ERROR = "mapping_failed";

  private final Map<String, LeadMapper> mappers = new LinkedHashMap<>();
  private final Deliveries deliveries;

  public MappingVerticle(Map<String, MappingConfig> byIntegration) {
    this(byIntegration, null);
  }

  /**
   * @param store where a delivery that cannot be mapped is recorded DEAD (so it is not retried forever and can be
   *              replayed once its integration is configured again); null: only announce it
   */
  public MappingVerticle(Map<String, MappingConfig> byIntegration, DeliveryStore store) {
    this.deliveries = store == null ? null : new Deliveries(store);
    // Built once here: a mapper parses its title template and field map, which need not happen per delivery.
    byIntegration.forEach((integration, config) -> mappers.put(integration, new LeadMapper(config)));
  }

  @Override
  public Future<?> start() {
    BusCodec.registerAll(vertx.eventBus());
    MessageConsumer<Object> deliveries = vertx.eventBus().localConsumer(Addresses.DELIVERY_MAP, this::map);
    MessageConsumer<Object> health = vertx.eventBus().localConsumer(Addresses.HEALTH_MAPPING, this::health);
    return Future.all(deliveries.completion(), health.completion());
  }

  private void map(Message<Object> message) {
    // Typed as Object so that a wrong message body becomes an ErrorEvent, not a ClassCastException in the bus. A
    // Delivery record is what the relay sends (BusCodec); its JSON form is what older senders and tests send.
    Delivery sent = message.body() instanceof Delivery delivery ? delivery : null;
    JsonObject body = sent != null ? null : message.body() instanceof JsonObject json ? json : new JsonObject();
    String deliveryId = sent != null ? sent.id() : textOrNull(body.getValue("id"));
    String integration = sent != null ? sent.integration() : textOrNull(body.getValue("integration"));
    LeadMapper mapper = integration == null ? null : mappers.get(integration);
    if (mapper == null) {
      fail(deliveryId, integration, integration == null
          ? "The delivery names no integration, so it cannot be mapped."
          : "No mapping is configured for integration \"" + integration + "\".");
      return;
    }
    LeadCommand command;
    try {
      command = mapper.map(sent != null ? sent : Delivery.fromJson(body));
    } catch (RuntimeException e) {
      // The mapper is total, so this is a malformed message (e.g. no receivedAt) or a bug: keep the trace.
      LOG.error("Delivery {} of integration {} could not be mapped", deliveryId, integration, e);
      fail(deliveryId, integration, "The delivery could not be mapped: " + e.getClass().getSimpleName() + ".");
      return;
    }
    // This node's BitrixVerticle, which sends it or hands it to the portal's owner.
    vertx.eventBus().send(Addresses.LEAD_DELIVER, command, new DeliveryOptions().setLocalOnly(true));
  }

  private void fail(String deliveryId, String integration, String reason) {
    if (deliveries != null && deliveryId != null) {
      deliveries.quarantine(deliveryId, reason, Instant.now()).onFailure(e -> LOG.error(
          "Could not record delivery {} as DEAD; it stays PENDING and is mapped again later: {}", deliveryId,
          e.toString()));
    }
    ErrorEvent event = new ErrorEvent(STAGE, deliveryId, integration, ERROR, reason, null, null, null, null,
        deliveries != null && deliveryId != null ? "dead: replay it with the admin API once fixed" : null);
    vertx.eventBus().publish(Addresses.LEAD_FAILED, event.toJson(), new DeliveryOptions().setLocalOnly(true));
  }

  private static String textOrNull(Object value) {
    return value instanceof String text ? text : null;
  }

  private void health(Message<Object> message) {
    message.reply(new JsonObject().put("status", "UP").put("integrations", mappers.size()));
  }
}
