package io.leadrelay.ops;

import io.leadrelay.ops.Condition.Kind;
import io.leadrelay.ops.Condition.Severity;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RelayConditionsTest {

  private static final Instant NOW = Instant.parse("2026-11-30T10:00:00Z");
  private static final String PORTAL = "https://b24-test.bitrix24.ru/rest/1/***/";
  private final RelayConditions conditions = new RelayConditions(Duration.ofMinutes(15));

  @Test
  void aHealthyRelayHasNoCondition() {
    PortalSnapshot portal = new PortalSnapshot("default", PORTAL, null, null, 3, NOW.minusSeconds(2),
        NOW.minusSeconds(1), null, true);
    assertEquals(List.of(), conditions.evaluate(snapshot(portal), NOW));
  }

  @Test
  void aPausedPortalIsDegradedWithItsReasonAndWhen() {
    Instant since = NOW.minusSeconds(90);
    PortalSnapshot portal = new PortalSnapshot("shop", PORTAL, "The portal cannot take leads until someone fixes its"
        + " configuration (HTTP 401 NO_AUTH_FOUND).", since, 7, NOW.minusSeconds(100), NOW.minusSeconds(100),
        null, true);
    List<Condition> found = conditions.evaluate(snapshot(portal), NOW);
    assertEquals(1, found.size(), found.toString());
    Condition paused = found.get(0);
    assertEquals(Kind.PORTAL_PAUSED, paused.kind());
    assertEquals(Severity.DEGRADED, paused.severity());
    assertEquals("PORTAL_PAUSED:shop", paused.key());
    assertEquals(since, paused.since());
    assertEquals("Bitrix24 portal " + PORTAL + " (integration shop) is paused: The portal cannot take leads until"
        + " someone fixes its configuration (HTTP 401 NO_AUTH_FOUND). Its 7 waiting lead(s) are kept and go once it"
        + " takes leads again.", paused.reason());
  }

  @Test
  void aStalledPortalIsNotDeliveringUnlessPausedWhichSaysMore() {
    Instant stalled = NOW.minusSeconds(400);
    PortalSnapshot stuck = new PortalSnapshot("default", PORTAL, null, null, 120, NOW.minusSeconds(400),
        NOW.minusSeconds(600), stalled, true);
    Condition found = conditions.evaluate(snapshot(stuck), NOW).get(0);
    assertEquals(Kind.PORTAL_NOT_DELIVERING, found.kind());
    assertEquals(stalled, found.since());
    assertTrue(found.reason().contains("since " + stalled + " while 120 wait"), found.reason());

    PortalSnapshot pausedToo = new PortalSnapshot("default", PORTAL, "Payment required.", NOW, 120,
        NOW.minusSeconds(400), NOW.minusSeconds(600), stalled, true);
    assertEquals(List.of(Kind.PORTAL_PAUSED), kinds(conditions.evaluate(snapshot(pausedToo), NOW)));
  }

  @Test
  void aBacklogOlderThanTheThresholdIsOldFromTheMomentItCrossedIt() {
    Instant oldest = NOW.minus(Duration.ofMinutes(20));
    PortalSnapshot slow = new PortalSnapshot("default", PORTAL, null, null, 5000, oldest, NOW.minusSeconds(1), null,
        true);
    Condition old = conditions.evaluate(snapshot(slow), NOW).get(0);
    assertEquals(Kind.BACKLOG_OLD, old.kind());
    assertEquals(oldest.plus(Duration.ofMinutes(15)), old.since());
    assertTrue(old.reason().contains("The oldest of 5000 lead(s) waiting for portal " + PORTAL
        + " (integration default) arrived 20 min ago, longer than the 15 min allowed."), old.reason());

    PortalSnapshot justUnder = new PortalSnapshot("default", PORTAL, null, null, 5000,
        NOW.minus(Duration.ofMinutes(15)).plusSeconds(1), NOW, null, true);
    assertEquals(List.of(), conditions.evaluate(snapshot(justUnder), NOW));
  }

  @Test
  void aFailingStoreIsDownAndAFailingLogDirectoryToo() {
    RelaySnapshot broken = new RelaySnapshot(List.of(),
        new PartHealth("store", "DOWN", "the store cannot commit: disk I/O error", true),
        new PartHealth("logs", "DOWN", "logs/ is not writable", true), List.of());
    List<Condition> found = conditions.evaluate(broken, NOW);
    assertEquals(List.of(Kind.STORE_FAILING, Kind.LOGS_FAILING), kinds(found));
    assertTrue(found.stream().allMatch(c -> c.severity() == Severity.DOWN));
    assertTrue(found.get(0).reason().contains("the store cannot commit: disk I/O error"), found.get(0).reason());
  }

  @Test
  void droppedLogLinesAndASilentPartAreDegradedNotDown() {
    RelaySnapshot snapshot = new RelaySnapshot(List.of(), PartHealth.up("store"),
        new PartHealth("logs", "DEGRADED", "log lines are being dropped (No space left on device)", true),
        List.of(PartHealth.up("mapping"), PartHealth.fromJson("bitrix", new JsonObject().put("status", "DOWN")
            .put("answered", false).put("reason", "no answer: Timed out"))));
    List<Condition> found = conditions.evaluate(snapshot, NOW);
    assertEquals(List.of(Kind.LOGS_FAILING, Kind.PART_NOT_ANSWERING), kinds(found));
    assertTrue(found.stream().allMatch(c -> c.severity() == Severity.DEGRADED));
  }

  @Test
  void readsTheSnapshotFromHealthParts() {
    JsonObject parts = new JsonObject()
        .put("store", new JsonObject().put("status", "UP"))
        .put("logs", new JsonObject().put("status", "UP"))
        .put("mapping", new JsonObject().put("status", "UP"))
        .put("bitrix", new JsonObject().put("status", "DEGRADED").put("portals", new JsonObject()
            .put("default", new JsonObject().put("state", "paused").put("reason", "Wrong code.")
                .put("pausedSince", NOW.toString()).put("backlog", 4).put("oldestPendingAt", NOW.toString())
                .put("lastProgressAt", NOW.toString()).put("ownedHere", false))));
    RelaySnapshot snapshot = RelaySnapshot.fromParts(parts);
    assertEquals(new PortalSnapshot("default", null, "Wrong code.", NOW, 4, NOW, NOW, null, false),
        snapshot.portals().get(0));
    assertEquals(List.of(Kind.PORTAL_PAUSED), kinds(conditions.evaluate(snapshot, NOW)));
  }

  @Test
  void aConditionCrossesTheBusUnchanged() {
    Condition condition = new Condition(Kind.BACKLOG_OLD, "default", Severity.DEGRADED, "Старые лиды ждут", NOW);
    assertEquals(condition, Condition.fromJson(new JsonObject(condition.toJson().encode())));
  }

  private static RelaySnapshot snapshot(PortalSnapshot... portals) {
    return new RelaySnapshot(List.of(portals), PartHealth.up("store"), PartHealth.up("logs"),
        List.of(PartHealth.up("mapping"), PartHealth.up("bitrix")));
  }

  private static List<Kind> kinds(List<Condition> conditions) {
    return conditions.stream().map(Condition::kind).toList();
  }
}
