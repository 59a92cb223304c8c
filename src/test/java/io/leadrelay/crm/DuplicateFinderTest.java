package io.leadrelay.crm;

import io.leadrelay.crm.DuplicateFinder.Communication;
import io.leadrelay.crm.DuplicateFinder.EntityType;
import io.leadrelay.crm.DuplicateFinder.Lookup;
import io.leadrelay.crm.DuplicateFinder.Matches;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DuplicateFinderTest {

  @Test
  void twentyValuesPerCallAtMost() {
    List<String> phones = new ArrayList<>();
    for (int i = 0; i < 45; i++) {
      phones.add("+7999000" + String.format("%04d", i));
    }
    List<Lookup> lookups = DuplicateFinder.lookups(Communication.PHONE, phones, EntityType.LEAD);

    assertEquals(List.of(20, 20, 5), lookups.stream().map(l -> l.values().size()).toList());
    assertEquals(new JsonObject().put("type", "PHONE").put("values", new JsonArray(phones.subList(0, 20)))
        .put("entity_type", "LEAD"), lookups.get(0).params());
  }

  @Test
  void emailsAreSearchedLowerCasedAndOnceEach() {
    List<Lookup> lookups = DuplicateFinder.lookups(Communication.EMAIL,
        List.of("Anna@Example.RU", "anna@example.ru ", "  ", "boris@example.ru"), null);

    assertEquals(1, lookups.size());
    // No entity type: Bitrix24 searches leads, contacts and companies in one call.
    assertEquals(new JsonObject().put("type", "EMAIL")
        .put("values", new JsonArray().add("anna@example.ru").add("boris@example.ru")), lookups.get(0).params());
  }

  @Test
  void noValuesNoCalls() {
    assertTrue(DuplicateFinder.lookups(Communication.PHONE, List.of(), null).isEmpty());
  }

  @Test
  void readsTheDocumentedAnswerAndTheEmptyArray() {
    Matches matches = DuplicateFinder.parse(new JsonObject("{\"LEAD\": [275, \"2297\"], \"CONTACT\": [12]}"));
    assertEquals(List.of(275L, 2297L), matches.leads());
    assertEquals(List.of(12L), matches.contacts());
    assertEquals(List.of(), matches.companies());

    // PHP's empty array: nothing matched.
    assertTrue(DuplicateFinder.parse(new JsonArray()).isEmpty());
    assertTrue(DuplicateFinder.parse(new JsonObject("{\"CONTACT\": []}")).isEmpty());
  }

  @Test
  void anUnreadableAnswerIsNotTakenForNoMatch() {
    assertThrows(IllegalArgumentException.class, () -> DuplicateFinder.parse(null));
    assertThrows(IllegalArgumentException.class, () -> DuplicateFinder.parse(true));
    assertThrows(IllegalArgumentException.class, () -> DuplicateFinder.parse(new JsonArray().add(1)));
    assertThrows(IllegalArgumentException.class,
        () -> DuplicateFinder.parse(new JsonObject("{\"LEAD\": [\"abc\"]}")));
  }

  @Test
  void matchesOfSeveralCallsAreUnited() {
    Matches all = DuplicateFinder.parse(new JsonObject("{\"LEAD\": [1, 2]}"))
        .plus(DuplicateFinder.parse(new JsonObject("{\"LEAD\": [2, 3], \"CONTACT\": [7]}")));
    assertEquals(List.of(1L, 2L, 3L), all.leads());
    assertEquals(List.of(7L), all.contacts());
  }

  @Test
  void multiFieldValuesAndSharedCommunication() {
    JsonObject lead = new JsonObject("""
        {"PHONE": [{"VALUE": "+79991234567", "VALUE_TYPE": "MOBILE"}],
         "EMAIL": [{"VALUE": "Anna@Example.ru", "VALUE_TYPE": "WORK"}]}""");
    assertEquals(List.of("+79991234567"), DuplicateFinder.values(lead, Communication.PHONE));

    JsonObject byEmail = new JsonObject("""
        {"ID": "7", "EMAIL": [{"ID": "31", "VALUE": "anna@example.ru", "VALUE_TYPE": "HOME"}]}""");
    JsonObject byOtherPhone = new JsonObject("""
        {"ID": "8", "PHONE": [{"ID": "32", "VALUE": "79991234567", "VALUE_TYPE": "WORK"}]}""");
    assertTrue(DuplicateFinder.shareCommunication(lead, byEmail));
    // The search compares stored strings exactly, and so does this.
    assertFalse(DuplicateFinder.shareCommunication(lead, byOtherPhone));
    // A plain string is not a multi-field (Bitrix24 does not save it).
    assertTrue(DuplicateFinder.values(new JsonObject().put("PHONE", "+7999"), Communication.PHONE).isEmpty());
  }
}
