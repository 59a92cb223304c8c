package io.leadrelay.alerting;

import io.leadrelay.ops.Condition;
import io.leadrelay.ops.Condition.Kind;
import io.leadrelay.ops.Condition.Severity;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlertDeskTest {

  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");
  private static final Condition PAUSED = new Condition(Kind.PORTAL_PAUSED, "shop", Severity.DEGRADED,
      "Bitrix24 portal https://b24-x.bitrix24.ru/rest/1/***/ (integration shop) is paused: wrong code.", T0);
  private static final Condition STORE = new Condition(Kind.STORE_FAILING, null, Severity.DOWN,
      "The delivery store cannot keep webhooks (disk full).", null);

  private final AlertDesk desk = new AlertDesk("https://relay.example.com", 5, 2, Duration.ofMinutes(15),
      null);

  @Test
  void aConditionIsAlertedOnceWhileItLastsAndOnceWhenItClears() {
    List<Alert> first = desk.observe(List.of(PAUSED), T0);
    assertEquals(1, first.size());
    assertEquals("[LeadRelay] Bitrix24 portal paused (integration shop)", first.get(0).subject());
    assertEquals("shop", first.get(0).integration());
    assertTrue(first.get(0).text().startsWith(PAUSED.reason()), first.get(0).text());

    for (int i = 1; i <= 20; i++) {
      assertEquals(List.of(), desk.observe(List.of(PAUSED), T0.plusSeconds(10L * i)), "still the same condition");
    }
    List<Alert> over = desk.observe(List.of(), T0.plusSeconds(720));
    assertEquals(1, over.size());
    assertEquals("[LeadRelay] Resolved: Bitrix24 portal paused (integration shop)", over.get(0).subject());
    assertEquals("This is over after 12 min. It was: " + PAUSED.reason(), over.get(0).text());
    assertEquals(List.of(), desk.observe(List.of(), T0.plusSeconds(730)), "one recovery, not one per check");
  }

  @Test
  void aNodeWideConditionGoesToTheDeploymentsChannels() {
    Alert alert = desk.observe(List.of(STORE), T0).get(0);
    assertEquals(null, alert.integration());
    assertEquals("[LeadRelay] Delivery store failing, webhooks refused", alert.subject());
  }

  @Test
  void onASharedStoreANodeWideConditionNamesTheNodeAndAPortalConditionDoesNot() {
    AlertDesk node = new AlertDesk(null, 5, 2, Duration.ofMinutes(15), "relay-2");
    List<Alert> alerts = node.observe(List.of(STORE, PAUSED), T0);
    assertEquals(List.of("[LeadRelay] Delivery store failing, webhooks refused on node relay-2",
        "[LeadRelay] Bitrix24 portal paused (integration shop)"), alerts.stream().map(Alert::subject).toList());
  }

  @Test
  void theFirstDeadDeliveriesAreAlertedOneByOneAndTheRestInOneDigest() {
    List<Alert> sent = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      sent.addAll(desk.dead(dead("d" + i), T0.plusSeconds(i)));
    }
    assertEquals(2, sent.size(), "deadAtOnce");
    assertEquals("[LeadRelay] Delivery d0 is DEAD (integration shop)", sent.get(0).subject());
    assertEquals("Delivery d0 will not become a lead by itself: Bitrix24 rejected this lead (HTTP 400).\n"
        + "Why in full, and Replay once fixed: https://relay.example.com/admin/#/deliveries/d0",
        sent.get(0).text());

    assertEquals(List.of(), desk.tick(T0.plus(Duration.ofMinutes(14))));
    List<Alert> digest = desk.tick(T0.plus(Duration.ofMinutes(15)));
    assertEquals(1, digest.size());
    assertEquals("[LeadRelay] 38 more DEAD deliveries (integration shop)", digest.get(0).subject());
    assertTrue(digest.get(0).text().contains("38 more deliveries of integration shop went DEAD in the last 15 min"
        + " (the first 2 were alerted one by one)"), digest.get(0).text());
    assertEquals(List.of(), desk.tick(T0.plus(Duration.ofMinutes(45))), "one digest per period");

    // A new period: the next DEAD one is alerted by itself again.
    assertEquals(1, desk.dead(dead("d40"), T0.plus(Duration.ofMinutes(50))).size());
  }

  @Test
  void pastTheHourlyCapAlertsAreCountedAndToldInOneLineWhenTheHourIsOver() {
    AlertDesk capped = new AlertDesk(null, 3, 100, Duration.ofMinutes(15), null);
    List<Alert> sent = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      sent.addAll(capped.dead(dead("d" + i), T0.plusSeconds(i)));
    }
    sent.addAll(capped.observe(List.of(STORE), T0.plusSeconds(20)));
    assertEquals(3, sent.size());
    assertTrue(sent.get(0).text().endsWith(": /admin/#/deliveries/d0"), "relative link without ADMIN_URL");

    assertEquals(List.of(), capped.tick(T0.plus(Duration.ofMinutes(59))));
    List<Alert> notice = capped.tick(T0.plus(Duration.ofMinutes(60)));
    assertEquals(2, notice.size(), notice.toString());
    Alert shop = notice.stream().filter(a -> "shop".equals(a.integration())).findFirst().orElseThrow();
    assertEquals("[LeadRelay] 7 alerts suppressed", shop.subject());
    assertTrue(shop.text().contains("7 alerts were not sent in the last hour, past the limit of 3 an hour"
        + " (ALERT_MAX_PER_HOUR): 7 DELIVERY_DEAD."), shop.text());
    Alert node = notice.stream().filter(a -> a.integration() == null).findFirst().orElseThrow();
    assertEquals("[LeadRelay] 1 alerts suppressed", node.subject());

    // The next hour has its own budget.
    assertEquals(1, capped.dead(dead("d99"), T0.plus(Duration.ofMinutes(61))).size());
  }

  @Test
  void aSuppressedConditionStillClearsOnce() {
    AlertDesk capped = new AlertDesk(null, 1, 100, Duration.ofMinutes(15), null);
    assertEquals(1, capped.observe(List.of(STORE), T0).size());
    assertEquals(List.of(), capped.observe(List.of(STORE, PAUSED), T0.plusSeconds(1)), "capped");
    assertEquals(List.of(), capped.observe(List.of(STORE, PAUSED), T0.plusSeconds(2)), "and not retried each check");
  }

  private static DeadDelivery dead(String id) {
    return new DeadDelivery(id, "shop", "bitrix", "lead_rejected", "LEAD_REJECTED", 400, "");
  }
}
