package io.leadrelay.cluster;

import io.leadrelay.BusCodec;
import io.leadrelay.config.ClusterConfig;
import io.leadrelay.http.PayloadParser;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Delivery;
import io.leadrelay.testing.FreePorts;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two clustered nodes in one JVM (Hazelcast over loopback, as {@link ClusterNode} joins in production): a lead
 * command or a delivery sent to the other node arrives with its numbers as written ({@code 9000.00}, {@code 1.50}),
 * while one sent on the same node arrives as the very object sent (no text written and parsed again).
 */
class ClusteredBusCodecTest {

  private static final String WEBHOOK = "{\"Бюджет\":9000.00,\"price\":1.50,\"text\":\"1.50\",\"big\":"
      + "123456789012345678901234567890,\"nested\":{\"rate\":0.10,\"list\":[2.50,\"x\",null,true]}}";

  private static ClusterNode first;
  private static ClusterNode second;

  @BeforeAll
  static void joinTwoNodes() throws Exception {
    int firstPort = FreePorts.pair();
    int secondPort = FreePorts.pair();
    while (Math.abs(secondPort - firstPort) < 2) {
      secondPort = FreePorts.pair();
    }
    List<String> members = List.of("127.0.0.1:" + firstPort, "127.0.0.1:" + secondPort);
    first = await(ClusterNode.join(config(members, firstPort)));
    second = await(ClusterNode.join(config(members, secondPort)));
    BusCodec.registerAll(first.vertx().eventBus());
    BusCodec.registerAll(second.vertx().eventBus());
  }

  @AfterAll
  static void leave() throws Exception {
    if (second != null) {
      await(second.vertx().close());
    }
    if (first != null) {
      await(first.vertx().close());
    }
  }

  @Test
  void aLeadCommandCrossesToTheOtherNodeWithItsDecimalsAsMapped() throws Exception {
    JsonObject fields = new JsonObject().put("TITLE", "Лид с сайта").put("OPPORTUNITY", new BigDecimal("9000.00"))
        .put("UF_CRM_RATE", new BigDecimal("1.50")).put("UF_CRM_TEXT", "1.50").put("nested", payload());
    LeadCommand sent = new LeadCommand("d-1", "shop", Instant.parse("2026-11-30T10:00:00Z"), fields,
        new JsonObject().put("REGISTER_SONET_EVENT", "Y"), 1, true, Instant.parse("2026-11-30T10:00:01Z"));

    LeadCommand received = (LeadCommand) sendFromFirstToSecond("test.lead.deliver", sent);

    assertNotSame(sent, received, "it crossed the wire");
    assertEquals(sent.addRequestBody().encode(), received.addRequestBody().encode());
    assertTrue(received.addRequestBody().encode().contains("\"OPPORTUNITY\":9000.00"),
        received.addRequestBody().encode());
    assertEquals(new BigDecimal("9000.00"), received.fields().getValue("OPPORTUNITY"));
    assertEquals(sent.toJson(), received.toJson(), "ids, times, attempts and flags too");
  }

  @Test
  void aDeliveryCrossesToTheOtherNodeWithThePayloadAsSent() throws Exception {
    Delivery sent = new Delivery("d-2", "shop", Instant.parse("2026-11-30T10:00:00.123Z"), "203.0.113.7", payload());

    Delivery received = (Delivery) sendFromFirstToSecond("test.delivery.map", sent);

    assertNotSame(sent, received);
    assertEquals(WEBHOOK, received.payload().encode());
    assertEquals(sent.toJson(), received.toJson());
  }

  @Test
  void onTheSameNodeTheValueItselfArrives() throws Exception {
    Delivery sent = new Delivery("d-3", "shop", Instant.parse("2026-11-30T10:00:00Z"), null, payload());
    Promise<Object> arrived = Promise.promise();
    await(first.vertx().eventBus().localConsumer("test.local", message -> arrived.complete(message.body()))
        .completion());

    first.vertx().eventBus().send("test.local", sent, new DeliveryOptions().setLocalOnly(true));

    assertSame(sent, await(arrived.future()), "no copy, no text round trip on the node-local hop");
  }

  /** Sends on the first node to a consumer registered on the second only; what the second node got. */
  private static Object sendFromFirstToSecond(String address, Object message) throws Exception {
    Promise<Object> arrived = Promise.promise();
    await(second.vertx().eventBus().consumer(address, received -> {
      arrived.tryComplete(received.body());
      received.reply("taken");
    }).completion());
    // The second node's registration reaches the first through Hazelcast: ask until it is known there.
    Future<Object> answered = Future.failedFuture("not sent yet");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      answered = first.vertx().eventBus().request(address, message).map(reply -> reply.body());
      try {
        await(answered);
        break;
      } catch (Exception noHandlerYet) {
        // retried: the subscription is not visible on the first node yet
      }
    }
    assertEquals("taken", await(answered));
    return await(arrived.future());
  }

  private static JsonObject payload() {
    return PayloadParser.parse(PayloadParser.JSON, WEBHOOK.getBytes(StandardCharsets.UTF_8));
  }

  private static ClusterConfig config(List<String> members, int port) {
    return new ClusterConfig(members, Optional.of("127.0.0.1"), port, Duration.ofSeconds(10));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
