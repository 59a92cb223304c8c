package io.leadrelay.store;

/**
 * A webhook to store. {@code bodyHash} identifies the exact body for the integration: a repeat of the same body
 * within the duplicate window is the same delivery.
 */
public record NewDelivery(Delivery delivery, String bodyHash) {
}
