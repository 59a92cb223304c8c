package io.leadrelay;

/**
 * Event-bus addresses. Commands go to exactly one consumer ({@code send}/{@code request}); announcements are
 * published node-locally so that, in a cluster, each node logs only what it handled itself. Every consumer is
 * node-local except {@link #portalDeliver} and {@link #portalAdmin}, the addresses that cross nodes.
 */
public final class Addresses {

  /** Command: a {@code Delivery} that has been accepted and must be mapped. Consumer: MappingVerticle. */
  public static final String DELIVERY_MAP = "leadrelay.delivery.map";

  /**
   * Command: a {@code LeadCommand} to create in Bitrix24. Consumer: this node's BitrixVerticle, which sends it or
   * hands it to the portal's owner ({@link #portalDeliver}).
   */
  public static final String LEAD_DELIVER = "leadrelay.lead.deliver";

  /**
   * Command, cluster-wide: a {@code LeadCommand} for one portal, handed to the node that owns it. Consumer: that
   * node's BitrixVerticle, registered only while it owns the portal. {@code portalKey} is the portal's lease key
   * (its address without path or webhook code), never a secret.
   */
  public static String portalDeliver(String portalKey) {
    return "leadrelay.portal." + portalKey + ".deliver";
  }

  /**
   * Request/reply, cluster-wide: the admin page's questions to one portal's owner, {@code {"action":"status"}} or
   * {@code {"action":"resume"}}. Consumer: the owner's PortalControl, registered only while it owns the portal, so
   * in a cluster the command reaches the one node that sends for it.
   */
  public static String portalAdmin(String portalKey) {
    return "leadrelay.portal." + portalKey + ".admin";
  }

  /** Announcement: an accepted webhook ({@code Delivery} JSON). Consumer: LogVerticle (webhook.log). */
  public static final String WEBHOOK_RECEIVED = "leadrelay.webhook.received";

  /** Announcement: a lead was created, or would have been in dry-run ({@code LeadCreated} JSON). */
  public static final String LEAD_CREATED = "leadrelay.lead.created";

  /** Announcement: a delivery failed at some stage ({@code ErrorEvent} JSON). */
  public static final String LEAD_FAILED = "leadrelay.lead.failed";

  /** Announcement: an HTTP request was refused before anything was accepted ({@code ErrorEvent} JSON). */
  public static final String REQUEST_REFUSED = "leadrelay.request.refused";

  /** Announcement: an alert could not be sent ({@code ErrorEvent} JSON, stage "alert"). Consumer: LogVerticle. */
  public static final String ALERT_FAILED = "leadrelay.alert.failed";

  /** Request/reply: each part of the relay answers its health as JSON with at least {@code "status"}. */
  public static final String HEALTH_MAPPING = "leadrelay.health.mapping";
  public static final String HEALTH_BITRIX = "leadrelay.health.bitrix";
  public static final String HEALTH_LOGS = "leadrelay.health.logs";
  /**
   * Consumer: PortalOwnership, on a shared store: the cluster view (members, portal owners, this node's role).
   * Nobody answers on a single node.
   */
  public static final String HEALTH_CLUSTER = "leadrelay.health.cluster";
  /** Consumer: StoreVerticle. DOWN when the store cannot commit or its file is gone. */
  public static final String HEALTH_STORE = "leadrelay.health.store";

  private Addresses() {
  }
}
