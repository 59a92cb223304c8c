package io.leadrelay.store;

/** The outcome of storing a webhook: its delivery id, and whether it repeated an earlier one (then nothing new). */
public record Accepted(String id, boolean repeat) {
}
