package io.leadrelay.http;

import io.leadrelay.config.ConfigException;
import io.leadrelay.config.ConfigParser;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The request deadline's setting, {@code http.requestTimeoutSeconds} / {@code HTTP_REQUEST_TIMEOUT_SECONDS}. */
class RequestTimeoutConfigTest {

  private static JsonObject http(Object seconds) {
    return new JsonObject().put("http", new JsonObject().put("requestTimeoutSeconds", seconds));
  }

  @Test
  void defaultsToTenSecondsAndIsReadFromTheFileOrTheEnvironment() {
    assertEquals(10, ConfigParser.parse(new JsonObject()).http().requestTimeoutSeconds());
    assertEquals(30, ConfigParser.parse(http(30)).http().requestTimeoutSeconds());
    assertEquals(5, ConfigParser.parse(http(30).put("HTTP_REQUEST_TIMEOUT_SECONDS", "5")).http()
        .requestTimeoutSeconds());
  }

  @Test
  void refusesValuesOutsideOneToThreeHundredSecondsNamingTheSetting() {
    assertEquals("http.requestTimeoutSeconds (HTTP_REQUEST_TIMEOUT_SECONDS) must be a whole number from 1 to 300,"
        + " got 0.",
        assertThrows(ConfigException.class, () -> ConfigParser.parse(http(0))).getMessage());
    assertEquals("HTTP_REQUEST_TIMEOUT_SECONDS must be a whole number from 1 to 300, got \"301\".",
        assertThrows(ConfigException.class,
            () -> ConfigParser.parse(new JsonObject().put("HTTP_REQUEST_TIMEOUT_SECONDS", "301"))).getMessage());
  }
}
