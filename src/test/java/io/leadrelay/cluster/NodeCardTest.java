package io.leadrelay.cluster;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a joining node makes of the cards the members published: refuse, warn, or join quietly. */
class NodeCardTest {

  private static final String SHOP = "https://shop.bitrix24.ru";
  private static final String CRM = "https://crm.example.com";

  private static NodeCard card(String node, boolean named, Object... integrations) {
    Map<String, String> targets = new LinkedHashMap<>();
    for (int i = 0; i < integrations.length; i += 2) {
      targets.put((String) integrations[i], (String) integrations[i + 1]);
    }
    return new NodeCard(node, named, targets);
  }

  private static NodeCard.Peer peer(String address, NodeCard card) {
    return new NodeCard.Peer(address, card);
  }

  @Test
  void aCardCrossesTheClusterAsMetadataWithDryRunKeptApartAndNoSecretOnIt() {
    NodeCard card = card("relay1", true, "default", SHOP, "test", null);
    JsonObject json = card.toJson();
    assertEquals(card, NodeCard.fromJson(new JsonObject(json.encode())));
    assertFalse(json.encode().contains("rest/"), "portal keys only, never a webhook path: " + json.encode());
    assertNull(NodeCard.fromJson(new JsonObject()), "an older release publishes no card");
    assertNull(NodeCard.fromJson(null));
  }

  @Test
  void nodesConfiguredAlikeJoinWithoutAWord() {
    NodeCard.Verdict verdict = card("relay2", true, "default", SHOP).against("10.0.0.2:5702", List.of(
        peer("10.0.0.1:5702", card("relay1", true, "default", SHOP)),
        peer("10.0.0.3:5702", null)));
    assertEquals(Optional.empty(), verdict.refusal());
    assertEquals(List.of(), verdict.warnings());
  }

  @Test
  void aSecondNodeUnderTheSameNodeIdIsRefusedButItsOwnPreviousRunIsNot() {
    NodeCard.Verdict twin = card("relay1", true, "default", SHOP).against("10.0.0.2:5702", List.of(
        peer("10.0.0.1:5702", card("relay1", true, "default", SHOP))));
    assertEquals(Optional.of("NODE_ID relay1 is already used by the cluster member relay1 at 10.0.0.1:5702; give"
        + " every node its own NODE_ID (two nodes under one name release each other's deliveries whenever one of"
        + " them starts)."), twin.refusal());

    // Restarted right after a kill: the dead run may still be listed, at this very address.
    assertEquals(Optional.empty(), card("relay1", true, "default", SHOP).against("10.0.0.1:5702", List.of(
        peer("10.0.0.1:5702", card("relay1", true, "default", SHOP)))).refusal());
    // Derived ids are unique by construction; equal ones would be a coincidence of names, not a mistake to refuse.
    assertEquals(Optional.empty(), card("host-1", false, "default", SHOP).against("10.0.0.2:5702", List.of(
        peer("10.0.0.1:5702", card("host-1", false, "default", SHOP)))).refusal());
  }

  @Test
  void anIntegrationInDryRunHereThatAMemberSendsToAPortalIsRefused() {
    NodeCard.Verdict verdict = card("relay3", true, "default", null).against("10.0.0.3:5702", List.of(
        peer("10.0.0.1:5702", card("relay1", true, "default", SHOP))));
    assertEquals(Optional.of("Integration default has no Bitrix24 portal on this node (dry-run), but the cluster"
        + " member relay1 at 10.0.0.1:5702 sends it to https://shop.bitrix24.ru: every node needs the same"
        + " configuration (set the portal here too, BITRIX_WEBHOOK_URL for the default integration); dry-run here"
        + " would mark the webhooks this node accepts as delivered without sending them."), verdict.refusal());
  }

  @Test
  void aNodeInDryRunThatWasUpFirstLearnsOfAMemberSendingItsIntegrationButNotOfAnythingElse() {
    NodeCard upFirst = card("relay2", true, "default", null, "test", SHOP);
    assertTrue(upFirst.hasDryRun());
    assertFalse(card("relay1", true, "default", SHOP).hasDryRun(), "only a node with a dry-run integration looks");

    // A member that joined later and sends the dry-run integration to a portal: this node is the one at fault.
    assertEquals(Optional.of("Integration default has no Bitrix24 portal on this node (dry-run), but the cluster"
        + " member relay3 at 10.0.0.3:5702 sends it to https://shop.bitrix24.ru: every node needs the same"
        + " configuration (set the portal here too, BITRIX_WEBHOOK_URL for the default integration); dry-run here"
        + " would mark the webhooks this node accepts as delivered without sending them."),
        upFirst.dryRunBeside(List.of(peer("10.0.0.4:5702", null),
            peer("10.0.0.3:5702", card("relay3", true, "default", SHOP)))));
    // A newcomer under this node's NODE_ID, or differing only elsewhere, is refused on its own side: not a reason to
    // stop the node that was running.
    assertEquals(Optional.empty(), upFirst.dryRunBeside(List.of(
        peer("10.0.0.5:5702", card("relay2", true, "default", null, "test", SHOP)),
        peer("10.0.0.6:5702", card("relay6", true, "test", "https://other.bitrix24.ru", "extra", SHOP)))));
  }

  @Test
  void otherDifferencesAreWarnedAboutOnePerMemberAndDifference() {
    NodeCard.Verdict verdict = card("relay2", true, "default", SHOP, "second", CRM, "mine", CRM)
        .against("10.0.0.2:5702", List.of(
            peer("10.0.0.1:5702", card("relay1", true, "default", CRM, "second", null, "theirs", SHOP))));
    assertEquals(Optional.empty(), verdict.refusal());
    assertEquals(4, verdict.warnings().size(), verdict.warnings().toString());
    assertEquals("Integration default sends to https://shop.bitrix24.ru on this node but to https://crm.example.com"
        + " on the cluster member relay1 at 10.0.0.1:5702: give every node the same configuration (expected only"
        + " while a rolling restart moves it).", verdict.warnings().get(0));
    assertTrue(verdict.warnings().get(1).startsWith("Integration second sends to https://crm.example.com on this"
        + " node but is dry-run on the cluster member relay1 at 10.0.0.1:5702: that node marks the webhooks it"
        + " accepts as delivered without sending them"), verdict.warnings().get(1));
    assertTrue(verdict.warnings().get(2).startsWith("Integration mine is configured on this node but not on the"
        + " cluster member relay1"), verdict.warnings().get(2));
    assertTrue(verdict.warnings().get(3).startsWith("Integration theirs is configured on the cluster member relay1"
        + " at 10.0.0.1:5702 but not on this node: webhooks for it that reach this node are refused with 404"),
        verdict.warnings().get(3));
  }
}
