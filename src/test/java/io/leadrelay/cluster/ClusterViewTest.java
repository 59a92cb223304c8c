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
  void membersAreNamedByTheNodeIdOnTheirLeases() {
    JsonObject view = ClusterView.toJson(true, "relay1/1234", List.of(),
        List.of(new ClusterView.Member("m-1", "relay1", "10.0.0.1", 5702)));
    assertEquals("relay1", view.getJsonArray("members").getJsonObject(0).getString("node"));
  }

  @Test
  void aPortalOwnerThatIsNoMemberOfThisClusterIsFound() {
    List<ClusterView.Member> members = List.of(new ClusterView.Member("m-3", "relay3", "10.0.0.3", 5702));
    List<PortalOwnership.Holder> holders = List.of(new PortalOwnership.Holder(SHOP, "relay1/5678", 4, true),
        new PortalOwnership.Holder(CRM, "relay3/1234", 2, true));
    assertEquals(java.util.Map.of(SHOP, "relay1/5678"), ClusterView.ownersOutside("relay3/1234", holders, members));

    List<ClusterView.Member> joined = List.of(members.get(0), new ClusterView.Member("m-1", "relay1", "10.0.0.1",
        5702));
    assertEquals(java.util.Map.of(), ClusterView.ownersOutside("relay3/1234", holders, joined));
    assertEquals(java.util.Map.of(), ClusterView.ownersOutside("relay3/1234",
        List.of(new PortalOwnership.Holder(SHOP, "relay1/5678", 4, false)), members), "an expired lease has no owner");
    assertEquals(java.util.Map.of(), ClusterView.ownersOutside("relay3/1234", holders,
        List.of(members.get(0), new ClusterView.Member("m-9", "10.0.0.9", 5702))), "a member of an older release"
        + " publishes no node id: nothing can be told");
  }

  @Test
  void aSingleNodeSaysSo() {
    assertEquals("single", ClusterView.single().getString("mode"));
  }
}
