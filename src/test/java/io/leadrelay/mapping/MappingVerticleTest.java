package io.leadrelay.mapping;

import io.leadrelay.Addresses;
import io.leadrelay.logging.ErrorEvent;
import io.leadrelay.store.Delivery;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

@ExtendWith(VertxExtension.class)
class MappingVerticleTest {

  private static final Instant RECEIVED_AT = Instant.parse("2024-06-01T16:29:22Z");

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    Map<String, MappingConfig> mappings = new LinkedHashMap<>();
    mappings.put("default", MappingConfig.defaults());
    mappings.put("shop", MappingConfig.fromJson(
        new JsonObject("{\"title\":\"Заказ {Товар}\",\"originatorId\":\"shop-bot\",\"registerSonetEvent\":false}"),
        "integrations.shop.mapping"));
    vertx.deployVerticle(new MappingVerticle(mappings)).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aDeliveryArrivesAsItsLeadCommand(Vertx vertx, VertxTestContext ctx) {
    Delivery delivery = new Delivery("d-1", "shop", RECEIVED_AT, "10.0.0.1",
        new JsonObject("{\"name\":\"Анна\",\"phone\":\"79990000000\",\"Товар\":\"Чайник\",\"Цвет\":\"синий\"}"));
    JsonObject expectedFields = new JsonObject()
        .put("TITLE", "Заказ Чайник")
        .put("NAME", "Анна")
        .put("PHONE", new JsonArray().add(new JsonObject().put("VALUE", "+79990000000").put("VALUE_TYPE", "WORK")))
        .put("ASSIGNED_BY_ID", 1)
        .put("SOURCE_ID", "WEB")
        .put("COMMENTS", "Товар: Чайник\nЦвет: синий")
        .put("ORIGINATOR_ID", "shop-bot")
        .put("ORIGIN_ID", "d-1");

    // On one node the record itself travels (BusCodec), both ways.
    MessageConsumer<LeadCommand> leads = vertx.eventBus().consumer(Addresses.LEAD_DELIVER, message -> ctx.verify(() -> {
      assertEquals(new LeadCommand("d-1", "shop", RECEIVED_AT, expectedFields,
          new JsonObject().put("REGISTER_SONET_EVENT", "N")), message.body());
      ctx.completeNow();
    }));
    failOn(vertx, ctx, Addresses.LEAD_FAILED);
    leads.completion()
        .onSuccess(registered -> vertx.eventBus().send(Addresses.DELIVERY_MAP, delivery))
        .onFailure(ctx::failNow);
  }

  @Test
  void anUnknownIntegrationIsAnnouncedAsAMappingFailure(Vertx vertx, VertxTestContext ctx) {
    Delivery delivery = new Delivery("d-2", "nobody", RECEIVED_AT, "10.0.0.1", new JsonObject("{\"name\":\"Анна\"}"));

    MessageConsumer<JsonObject> failures = vertx.eventBus().consumer(Addresses.LEAD_FAILED, message -> ctx.verify(() -> {
      assertEquals(new ErrorEvent("mapping", "d-2", "nobody", "mapping_failed",
          "No mapping is configured for integration \"nobody\".", null, null, null, null),
          ErrorEvent.fromJson(message.body()));
      ctx.completeNow();
    }));
    failOn(vertx, ctx, Addresses.LEAD_DELIVER);
    failures.completion()
        .onSuccess(registered -> vertx.eventBus().send(Addresses.DELIVERY_MAP, delivery.toJson()))
        .onFailure(ctx::failNow);
  }

  @Test
  void aMalformedDeliveryIsAnnouncedAsAMappingFailure(Vertx vertx, VertxTestContext ctx) {
    JsonObject withoutReceivedAt = new JsonObject().put("id", "d-3").put("integration", "default")
        .put("payload", new JsonObject());

    MessageConsumer<JsonObject> failures = vertx.eventBus().consumer(Addresses.LEAD_FAILED, message -> ctx.verify(() -> {
      ErrorEvent event = ErrorEvent.fromJson(message.body());
      assertEquals("mapping", event.stage());
      assertEquals("d-3", event.deliveryId());
      assertEquals("default", event.integration());
      assertEquals("mapping_failed", event.error());
      assertEquals("The delivery could not be mapped: NullPointerException.", event.reason());
      ctx.completeNow();
    }));
    failOn(vertx, ctx, Addresses.LEAD_DELIVER);
    failures.completion()
        .onSuccess(registered -> vertx.eventBus().send(Addresses.DELIVERY_MAP, withoutReceivedAt))
        .onFailure(ctx::failNow);
  }

  @Test
  void healthReportsUpWithTheNumberOfIntegrations(Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.HEALTH_MAPPING, new JsonObject())
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertEquals(new JsonObject().put("status", "UP").put("integrations", 2), reply.body());
          ctx.completeNow();
        })));
  }

  /** A message on this address would mean the delivery went the wrong way. */
  private static void failOn(Vertx vertx, VertxTestContext ctx, String address) {
    vertx.eventBus().<JsonObject>consumer(address,
        message -> ctx.failNow(new AssertionError("unexpected message on " + address + ": " + message.body())));
  }
}
