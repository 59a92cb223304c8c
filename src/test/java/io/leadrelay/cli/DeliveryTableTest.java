package io.leadrelay.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Formatting details the end-to-end CLI test does not pin down. */
class DeliveryTableTest {

  @Test
  void aLongOrMultiLineErrorBecomesOneShortLine() {
    assertEquals("short", DeliveryTable.truncate("short"));
    assertEquals("first second", DeliveryTable.truncate("first\n  second\n"));
    String cut = DeliveryTable.truncate("x".repeat(200));
    assertEquals(DeliveryTable.MAX_ERROR, cut.length());
    assertEquals("x".repeat(DeliveryTable.MAX_ERROR - 3) + "...", cut);
  }

  @Test
  void anEmptyListIsJustTheHeader() {
    assertEquals("ID  STATE  INTEGRATION  RECEIVED (UTC)  ATTEMPTS  LEAD  LAST ERROR" + System.lineSeparator(),
        DeliveryTable.format(List.of()));
  }
}
