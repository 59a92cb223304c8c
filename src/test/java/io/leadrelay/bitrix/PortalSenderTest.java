package io.leadrelay.bitrix;

import io.leadrelay.config.BitrixHttpConfig;
import io.leadrelay.config.BitrixLimits;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.mapping.LeadCommand;
import io.leadrelay.store.Fence;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One portal's sending loop on its own, against the fake portal: what it takes, what it holds back, what it says. */
@ExtendWith(VertxExtension.class)
class PortalSenderTest {

  private static final BitrixError BROKEN = new BitrixError(ErrorClass.PORTAL_FAILURE, 503, null, "Service Unavailable");

  private static PortalSender sender(Vertx vertx, FakeBitrixPortal portal, int maxQueued) {
    BitrixClient client = new BitrixClient(vertx, TestRelay.BITRIX, new PortalTokens(null, Map.of()));
    return new PortalSender(PortalConfig.parse("test", portal.webhookUrl()), client, TestRelay.BITRIX,
        BitrixLimits.standard(), TestRelay.FAST, (delay, task) -> vertx.setTimer(delay, id -> task.run()),
        Clock.systemUTC(), maxQueued);
  }

  private static LeadCommand lead(String id) {
    return new LeadCommand(id, "main", Instant.now(), new JsonObject().put("TITLE", "Лид " + id)
        .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", id), new JsonObject());
  }

  @Test
  void aLeadIsSentAndItsLeadIdComesBack(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      List<Future<SendOutcome>> sent = new ArrayList<>();
      assertNull(sender(vertx, portal, 10).admit(lead("d-1"), Instant.now(), sent::add));
      return sent.get(0);
    }).onComplete(ctx.succeeding(outcome -> ctx.verify(() -> {
      assertTrue(outcome instanceof SendOutcome.Sent sent && !sent.found() && sent.leadId() > 0, outcome.toString());
      ctx.completeNow();
    })));
  }

  @Test
  void aNewOwnerStartsFromAFullBucket(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      PortalSender sender = sender(vertx, portal, 10);
      sender.startOwning(new Fence("portal", 2), () -> true, Instant.now());
      long start = System.nanoTime();
      return firstOutcome(sender).map(outcome -> {
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        ctx.verify(() -> {
          assertTrue(outcome instanceof SendOutcome.Sent, outcome.toString());
          // The previous owner may have just spent the burst: the first request waits for a permit to drain.
          assertTrue(waitedMillis >= 400, "sent after " + waitedMillis + " ms");
          assertEquals(new Fence("portal", 2), sender.fence());
        });
        return outcome;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** The outcome of one lead admitted now. */
  private static Future<SendOutcome> firstOutcome(PortalSender sender) {
    List<Future<SendOutcome>> sent = new ArrayList<>();
    assertNull(sender.admit(lead("d-1"), Instant.now(), sent::add));
    return sent.get(0);
  }

  @Test
  void losingThePortalDropsTheWaitingLeadsAndSendsNothingMore(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      PortalSender sender = sender(vertx, portal, 10);
      sender.startOwning(new Fence("portal", 2), () -> true, Instant.now());
      List<Future<SendOutcome>> sent = new ArrayList<>();
      assertNull(sender.admit(lead("queued"), Instant.now(), sent::add));
      sender.standBy();
      assertNull(sender.admit(lead("after"), Instant.now(), sent::add));
      return Future.all(sent).map(all -> {
        ctx.verify(() -> {
          assertTrue(sent.stream().allMatch(f -> f.result() instanceof SendOutcome.NotOwner), sent.toString());
          assertFalse(sender.owning());
          assertNull(sender.fence(), "a standby writes nothing");
          assertTrue(portal.calls().isEmpty(), "nothing reached the portal: " + portal.calls());
        });
        return all;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aSenderWhoseTermEndedSendsNothing(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      PortalSender sender = sender(vertx, portal, 10);
      sender.startOwning(new Fence("portal", 2), () -> false, Instant.now().minusSeconds(60));
      return firstOutcome(sender).map(outcome -> {
        ctx.verify(() -> {
          assertTrue(outcome instanceof SendOutcome.NotOwner, outcome.toString());
          assertTrue(portal.calls().isEmpty(), "read right before the request: " + portal.calls());
        });
        return outcome;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void beyondItsMemoryCapALeadIsToldToWaitInTheStore(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).onComplete(ctx.succeeding(portal -> ctx.verify(() -> {
      Instant now = Instant.now();
      List<Future<SendOutcome>> sent = new ArrayList<>();
      Instant waitUntil = sender(vertx, portal, 0).admit(lead("d-1"), now, sent::add);
      assertEquals(now.plusSeconds(1), waitUntil);
      assertTrue(sent.isEmpty(), "nothing was queued");
      ctx.completeNow();
    })));
  }

  @Test
  void aPausedPortalLetsOneProbeThroughAndTheRestWait(Vertx vertx, VertxTestContext ctx) {
    FakeBitrixPortal.start(vertx).compose(portal -> {
      PortalSender sender = sender(vertx, portal, 10);
      Instant pausedAt = Instant.now();
      sender.state().pause(BROKEN, pausedAt);
      List<Future<SendOutcome>> sent = new ArrayList<>();
      assertEquals(sender.state().nextProbeAt(pausedAt), sender.admit(lead("early"), pausedAt, sent::add),
          "before the probe is due, a lead waits for it");
      Instant probeAt = sender.state().nextProbeAt(pausedAt);
      assertNull(sender.admit(lead("probe"), probeAt, sent::add), "the probe goes");
      Instant waitUntil = sender.admit(lead("other"), probeAt, sent::add);
      assertEquals(sender.state().nextProbeAt(probeAt), waitUntil, "one probe at a time");
      assertEquals(1, sent.size());
      return sent.get(0).map(outcome -> {
        assertTrue(outcome instanceof SendOutcome.Sent, outcome.toString());
        assertTrue(sender.endProbe("probe"));
        assertFalse(sender.endProbe("other"));
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void batchesAreSizedToTheOperatingTimeLeftSoNoCommandIsRefused(Vertx vertx, VertxTestContext ctx) {
    // The portal allows 1 s of crm.lead.add per 1 s window at 0.02 s a lead: 50 leads a window. Once an answer has
    // shown a lead's cost, 100 leads waiting at once go in batches sized to the window (two full batches of 50 in
    // flight together would have half their commands refused).
    FakeBitrixPortal.start(vertx).compose(portal -> {
      portal.limits(50, 2, 1.0, 1000, 0.02);
      BitrixClient client = new BitrixClient(vertx, TestRelay.BITRIX, new PortalTokens(null, Map.of()));
      PortalSender sender = new PortalSender(PortalConfig.parse("test", portal.webhookUrl()), client,
          TestRelay.BITRIX, new BitrixLimits(50, 2, 1.0, 50), TestRelay.FAST,
          (delay, task) -> vertx.setTimer(delay, id -> task.run()), Clock.systemUTC(), 1000);
      return admitAll(sender, "first", 10)
          .compose(first -> admitAll(sender, "d", 100))
          .map(outcomes -> {
            assertTrue(outcomes.stream().allMatch(outcome -> outcome instanceof SendOutcome.Sent), outcomes.toString());
            assertEquals(110, portal.leads().size());
            assertEquals(0, portal.operatingTimeBlocks(), "no command was refused for operating time");
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static Future<List<SendOutcome>> admitAll(PortalSender sender, String prefix, int count) {
    List<Future<SendOutcome>> sent = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      assertNull(sender.admit(lead(prefix + "-" + i), Instant.now(), sent::add));
    }
    return Future.all(new ArrayList<>(sent)).map(all -> sent.stream().map(Future::result).toList());
  }
}
