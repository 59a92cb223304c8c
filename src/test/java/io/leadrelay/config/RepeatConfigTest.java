package io.leadrelay.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code repeat} and {@code repeatLookupDays} settings of an integration, from the file and the environment. */
class RepeatConfigTest {

  private static RepeatConfig repeatOf(JsonObject json, String integration) {
    return ConfigParser.parse(json).integrations().get(integration).repeat();
  }

  @Test
  void newIsTheDefaultAndLooksNothingUp() {
    RepeatConfig repeat = repeatOf(new JsonObject(), "default");
    assertEquals(RepeatConfig.Policy.NEW, repeat.policy());
    assertFalse(repeat.looksUp());
    assertEquals(30, repeat.lookupDays());
  }

  @Test
  void perIntegrationInTheFile() {
    JsonObject json = new JsonObject().put("integrations", new JsonObject()
        .put("shop", new JsonObject().put("repeat", "update").put("repeatLookupDays", 7))
        .put("club", new JsonObject().put("repeat", "LINK").put("repeatLookupDays", 0)));
    assertEquals(new RepeatConfig(RepeatConfig.Policy.UPDATE, 7), repeatOf(json, "shop"));
    assertEquals(Duration.ofDays(7), repeatOf(json, "shop").window());
    RepeatConfig club = repeatOf(json, "club");
    assertEquals(RepeatConfig.Policy.LINK, club.policy());
    assertNull(club.window(), "0 days: a match of any age counts");
  }

  @Test
  void theEnvironmentSetsTheDefaultIntegrations() {
    RepeatConfig repeat = repeatOf(new JsonObject().put("REPEAT_POLICY", "comment")
        .put("REPEAT_LOOKUP_DAYS", "90"), "default");
    assertEquals(new RepeatConfig(RepeatConfig.Policy.COMMENT, 90), repeat);
    assertTrue(repeat.looksUp());
  }

  @Test
  void anUnknownPolicyStopsStartUpWithOneSentence() {
    String message = assertThrows(ConfigException.class,
        () -> ConfigParser.parse(new JsonObject().put("REPEAT_POLICY", "merge"))).getMessage();
    assertTrue(message.contains("REPEAT_POLICY") && message.contains("new, comment, update or link"), message);
    String days = assertThrows(ConfigException.class, () -> ConfigParser.parse(new JsonObject()
        .put("REPEAT_LOOKUP_DAYS", "-1"))).getMessage();
    assertTrue(days.contains("REPEAT_LOOKUP_DAYS"), days);
  }
}
