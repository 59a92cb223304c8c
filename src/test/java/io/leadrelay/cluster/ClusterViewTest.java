package io.leadrelay.cluster;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What /health says about the cluster, from the leases and the members. */
class ClusterViewTest {

  private static final String SHOP = "https://shop.bitrix24.ru";
  private static final String CRM = "https://crm.example.com";

  @Test
  void theOwnerOfAPortalSaysSoAndNamesTheMembers() {
    JsonObject view = ClusterView.toJson(true, "node-a/1234", List.of(
            new PortalOwnership.Holder(CRM, "node-b/5678", 4, true),
            new PortalOwnership.Holder(SHOP, "node-a/1234", 7, true)),
        List.of(new ClusterView.Member("m-1", "10.0.0.1", 5702), new ClusterView.Member("m-2", "10.0.0.2", 5702)));

    assertEquals("cluster", view.getString("mode"));
    assertEquals("owner", view.getString("role"));
    assertEquals(List.of(SHOP), view.getJsonArray("owns").getList());
    assertEquals("node-b/5678", view.getJsonObject("portals").getJsonObject(CRM).getString("owner"));
    assertFalse(view.getJsonObject("portals").getJsonObject(CRM).getBoolean("thisNode"));
    assertEquals(7L, view.getJsonObject("portals").getJsonObject(SHOP).getLong("epoch"));
    assertEquals("10.0.0.2:5702", view.getJsonArray("members").getJsonObject(1).getString("address"));
  }

  @Test
  void aNodeWhoseLeaseRanOutIsAStandbyAndAnExpiredLeaseHasNoOwner() {
    JsonObject view = ClusterView.toJson(false, "node-a/1234",
        List.of(new PortalOwnership.Holder(SHOP, "node-a/1234", 7, false)), List.of());

    assertEquals("shared-store", view.getString("mode"));
    assertEquals("standby", view.getString("role"));
    assertTrue(view.getJsonArray("owns").isEmpty());
    assertNull(view.getJsonObject("portals").getJsonObject(SHOP).getString("owner"));
    assertFalse(view.containsKey("members"), "no clustered bus, no members");
  }

  @Test
  void aSingleNodeSaysSo() {
    assertEquals("single", ClusterView.single().getString("mode"));
  }
}
