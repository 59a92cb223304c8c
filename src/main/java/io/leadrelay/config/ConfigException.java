package io.leadrelay.config;

/** A configuration value is missing or wrong; the message is one sentence naming the key and why. */
public class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }
}
