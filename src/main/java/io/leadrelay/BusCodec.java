package io.leadrelay;

import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Delivery;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * How one kind of bus message travels. On this node (the usual hop: HTTP to mapping to sending) the receiver gets
 * the very value that was sent: no JSON text written and parsed again, no copy. Between nodes it travels as the
 * message's exact JSON text ({@link ExactJson}), so a payload's {@code 9000.00} reaches the other node, and
 * Bitrix24, with its digits as BotHelp sent them.
 *
 * <p>Sharing the value on one node is safe because the messages are records whose JSON parts (payload, lead
 * fields) nobody changes once they are sent: the sender hands them over, and the receivers only read them.
 *
 * @param <T> the message's record type
 */
public final class BusCodec<T> implements MessageCodec<T, T> {

  private final Class<T> type;
  private final String name;
  private final Function<T, JsonObject> toJson;
  private final Function<JsonObject, T> fromJson;

  private BusCodec(Class<T> type, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    this.type = type;
    this.name = "leadrelay." + type.getSimpleName();
    this.toJson = toJson;
    this.fromJson = fromJson;
  }

  /**
   * Makes {@link Delivery} and {@link LeadCommand} sendable as they are on {@code bus}. Every part that sends them
   * calls this when it starts (the relay, or a verticle deployed alone in a test); registering twice is harmless.
   */
  public static synchronized void registerAll(EventBus bus) {
    register(bus, deliveries());
    register(bus, leadCommands());
  }

  static BusCodec<Delivery> deliveries() {
    return new BusCodec<>(Delivery.class, Delivery::toJson, Delivery::fromJson);
  }

  static BusCodec<LeadCommand> leadCommands() {
    return new BusCodec<>(LeadCommand.class, LeadCommand::toJson, LeadCommand::fromJson);
  }

  private static <T> void register(EventBus bus, BusCodec<T> codec) {
    try {
      bus.registerDefaultCodec(codec.type, codec);
    } catch (IllegalStateException alreadyRegistered) {
      // Vert.x has no "is it registered?": another verticle on this Vert.x registered it first.
    }
  }

  /** Another node: the message's JSON, numbers exact, as a length and UTF-8 text (as Vert.x's JSON codec does). */
  @Override
  public void encodeToWire(Buffer buffer, T value) {
    byte[] text = ExactJson.encode(toJson.apply(value)).getBytes(StandardCharsets.UTF_8);
    buffer.appendInt(text.length).appendBytes(text);
  }

  @Override
  public T decodeFromWire(int position, Buffer buffer) {
    int length = buffer.getInt(position);
    int start = position + 4;
    return fromJson.apply(ExactJson.decode(buffer.getString(start, start + length, "UTF-8")));
  }

  /** This node: the value itself. */
  @Override
  public T transform(T value) {
    return value;
  }

  @Override
  public String name() {
    return name;
  }

  /** A user codec. */
  @Override
  public byte systemCodecID() {
    return -1;
  }
}
