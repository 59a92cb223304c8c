package io.leadrelay.bitrix;

import io.leadrelay.Addresses;
import io.leadrelay.cluster.Ownership;
import io.leadrelay.delivery.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Answers the admin page about the portals this node owns, on each portal's cluster-wide
 * {@link Addresses#portalAdmin} address: its state and request budget ("status"), and "Resume now" for a paused
 * portal ("resume"). Only the owner has the portal's real state, so only the owner listens; on a single node that is
 * this node for every portal. Runs on the BitrixVerticle's event loop, like the senders it reads.
 */
final class PortalControl {

  private static final Logger LOG = LoggerFactory.getLogger("io.leadrelay.bitrix");

  private final Vertx vertx;
  private final Deliveries deliveries;
  private final Ownership ownership;
  private final Map<String, MessageConsumer<JsonObject>> listening = new LinkedHashMap<>();

  PortalControl(Vertx vertx, Deliveries deliveries, Ownership ownership) {
    this.vertx = vertx;
    this.deliveries = deliveries;
    this.ownership = ownership;
  }

  /** This node owns the portal now: answer for it. */
  Future<Void> own(String portalKey, PortalSender sender) {
    disown(portalKey);
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.portalAdmin(portalKey),
        message -> answer(portalKey, sender, message));
    listening.put(portalKey, consumer);
    return consumer.completion();
  }

  /** Another node owns the portal now (or nobody): stop answering for it. */
  void disown(String portalKey) {
    MessageConsumer<JsonObject> consumer = listening.remove(portalKey);
    if (consumer != null) {
      consumer.unregister();
    }
  }

  void close() {
    listening.keySet().stream().toList().forEach(this::disown);
  }

  private void answer(String portalKey, PortalSender sender, Message<JsonObject> message) {
    String action = message.body() == null ? null : message.body().getString("action");
    Instant now = Instant.now();
    if (!sender.owning()) {
      message.fail(503, "This node no longer sends for the portal.");
    } else if ("status".equals(action)) {
      message.reply(status(portalKey, sender, now));
    } else if ("resume".equals(action)) {
      resume(portalKey, sender, now).onComplete(done -> message.reply(status(portalKey, sender, Instant.now())
          .put("resumed", done.succeeded() && done.result())));
    } else {
      message.fail(400, "Unknown portal action.");
    }
  }

  /**
   * Lets the next waiting delivery through at once as the probe and wakes the portal's waiting deliveries; the
   * probe's success resumes the portal (its usual way), a failure keeps it paused with the new reason.
   */
  private Future<Boolean> resume(String portalKey, PortalSender sender, Instant now) {
    if (!sender.state().probeNow(now)) {
      return Future.succeededFuture(false);
    }
    LOG.info("Portal {}: resumed by an operator; the next waiting delivery goes now as a probe", portalKey);
    return deliveries.portalResumed(sender.users(), now).map(true);
  }

  private JsonObject status(String portalKey, PortalSender sender, Instant now) {
    return new JsonObject()
        .put("portal", portalKey)
        .put("address", sender.config().masked())
        .put("integrations", new JsonArray(sender.users()))
        .put("owner", ownership.owner())
        .put("queued", sender.queue().queued())
        .put("inFlight", sender.queue().inFlight())
        .put("lastProgressAt", sender.progress().lastProgressAt().toString())
        .put("budget", sender.budget(now))
        .mergeIn(sender.state().toJson(now));
  }
}
