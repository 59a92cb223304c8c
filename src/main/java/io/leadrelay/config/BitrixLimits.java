package io.leadrelay.config;

/**
 * What one Bitrix24 portal allows, so the relay can stay just under it: the request bucket ({@code burst} requests,
 * draining {@code ratePerSecond}), the operating time a method may spend per 10-minute window, and how many leads
 * one {@code batch} request may carry (1 turns batching off).
 */
public record BitrixLimits(int burst, double ratePerSecond, double operatingLimitSeconds, int batchSize) {

  /** Bitrix24's documented plans. */
  public static BitrixLimits standard() {
    return new BitrixLimits(50, 2, 480, 50);
  }

  public static BitrixLimits enterprise() {
    return new BitrixLimits(250, 5, 480, 50);
  }
}
