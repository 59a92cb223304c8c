package io.leadrelay;

import io.leadrelay.http.PayloadParser;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Delivery;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.impl.codecs.JsonObjectMessageCodec;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Messages that may cross nodes go through the clustered bus's JSON codec (written to the wire, read back on the
 * other node): what arrives must be what was sent, digit for digit.
 */
class BusMessagesTest {

  private static final String WEBHOOK = "{\"Бюджет\":9000.00,\"price\":1.50,\"text\":\"1.50\",\"big\":"
      + "123456789012345678901234567890,\"id\":7,\"nested\":{\"rate\":0.10,\"list\":[2.50,\"x\",null,true]}}";

  /** What the cluster does with a JsonObject body between two nodes. */
  private static JsonObject acrossTheWire(JsonObject message) {
    JsonObjectMessageCodec codec = new JsonObjectMessageCodec();
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire(0, wire);
  }

  private static JsonObject payload() {
    return PayloadParser.parse(PayloadParser.JSON, WEBHOOK.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aDeliveryArrivesOnAnotherNodeWithThePayloadAsSent() {
    Delivery sent = new Delivery("d1", "shop", Instant.parse("2025-03-01T10:00:00.123Z"), "203.0.113.7", payload(),
        2, true, Instant.parse("2025-03-01T10:00:01Z"));

    Delivery received = Delivery.fromJson(acrossTheWire(sent.toJson()));

    assertEquals(WEBHOOK, received.payload().encode());
    assertEquals(new BigDecimal("9000.00"), received.payload().getValue("Бюджет"));
    assertEquals(sent.toJson(), received.toJson());
  }

  @Test
  void aLeadCommandArrivesOnAnotherNodeWithItsFieldsAsMapped() {
    JsonObject fields = new JsonObject().put("TITLE", "Лид").put("OPPORTUNITY", new BigDecimal("9000.00"))
        .put("UF_CRM_RATE", new BigDecimal("1.50")).put("nested", payload());
    LeadCommand sent = new LeadCommand("d1", "shop", Instant.parse("2025-03-01T10:00:00Z"), fields,
        new JsonObject().put("REGISTER_SONET_EVENT", "Y"), 3, true, Instant.parse("2025-03-01T10:00:02Z"));

    LeadCommand received = LeadCommand.fromJson(acrossTheWire(sent.toJson()));

    assertEquals(sent.addRequestBody().encode(), received.addRequestBody().encode());
    assertEquals("9000.00", received.fields().getValue("OPPORTUNITY").toString());
    assertEquals(sent.toJson(), received.toJson());
  }

  /** What the cluster does with a record sent with its BusCodec between two nodes. */
  private static <T> T acrossTheWire(BusCodec<T> codec, T message) {
    Buffer wire = Buffer.buffer("some bytes before");
    int start = wire.length();
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire(start, wire);
  }

  @Test
  void theDeliveryCodecKeepsThePayloadExactBetweenNodesAndSharesItOnOne() {
    Delivery sent = new Delivery("d1", "shop", Instant.parse("2025-03-01T10:00:00.123Z"), "203.0.113.7", payload(),
        2, true, Instant.parse("2025-03-01T10:00:01Z"));

    Delivery received = acrossTheWire(BusCodec.deliveries(), sent);

    assertEquals(WEBHOOK, received.payload().encode());
    assertEquals(new BigDecimal("9000.00"), received.payload().getValue("Бюджет"));
    assertEquals(sent.toJson(), received.toJson());
    assertSame(sent, BusCodec.deliveries().transform(sent), "a node-local hop neither copies nor re-parses");
  }

  @Test
  void theLeadCommandCodecKeepsTheFieldsExactBetweenNodesAndSharesThemOnOne() {
    JsonObject fields = new JsonObject().put("TITLE", "Лид").put("OPPORTUNITY", new BigDecimal("9000.00"))
        .put("UF_CRM_RATE", new BigDecimal("1.50")).put("nested", payload());
    LeadCommand sent = new LeadCommand("d1", "shop", Instant.parse("2025-03-01T10:00:00Z"), fields,
        new JsonObject().put("REGISTER_SONET_EVENT", "Y"), 3, true, null);

    LeadCommand received = acrossTheWire(BusCodec.leadCommands(), sent);

    assertEquals(sent.addRequestBody().encode(), received.addRequestBody().encode());
    assertEquals("9000.00", received.fields().getValue("OPPORTUNITY").toString());
    assertEquals(sent.toJson(), received.toJson());
    assertSame(sent, BusCodec.leadCommands().transform(sent));
  }

  @Test
  void plainJsonTextRoundTripsToo() {
    Delivery sent = new Delivery("d2", "shop", Instant.parse("2025-03-01T10:00:00Z"), null, payload());

    Delivery received = Delivery.fromJson(new JsonObject(sent.toJson().encode()));

    assertEquals(WEBHOOK, received.payload().encode());
  }
}
