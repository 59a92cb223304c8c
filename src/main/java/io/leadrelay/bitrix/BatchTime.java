package io.leadrelay.bitrix;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * A {@code time} block of a batch answer: the batch call's own, or one command's from {@code result_time}.
 * {@code operating} is the seconds the method has spent for this webhook in Bitrix24's sliding 10-minute window and
 * {@code operatingResetAt} when the oldest minute of it drops out (reference: bitrix24-rest.md §4); either is null
 * when the block does not carry it. {@code block} is the whole block as sent (start, finish, duration, ...).
 */
public record BatchTime(Double operating, Instant operatingResetAt, JsonObject block) {

  /** The block in {@code value}, or null when there is none ({@code []}, null, or anything but an object). */
  static BatchTime from(Object value) {
    if (!(value instanceof JsonObject block)) {
      return null;
    }
    Double operating = seconds(block.getValue("operating"));
    Double resetAt = seconds(block.getValue("operating_reset_at"));
    return new BatchTime(operating, resetAt == null ? null : Instant.ofEpochMilli((long) (resetAt * 1000)),
        block.copy());
  }

  /** Bitrix24 writes these as numbers, but a numeric string is read the same way. */
  private static Double seconds(Object value) {
    if (value instanceof Number number) {
      double seconds = number.doubleValue();
      return Double.isFinite(seconds) ? seconds : null;
    }
    if (value instanceof String text && !text.isBlank()) {
      try {
        double seconds = Double.parseDouble(text.trim());
        return Double.isFinite(seconds) ? seconds : null;
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }
}
