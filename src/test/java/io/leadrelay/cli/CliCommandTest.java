package io.leadrelay.cli;

import io.leadrelay.cli.CliCommand.Action;
import io.leadrelay.cli.CliCommand.UsageException;
import io.leadrelay.http.DeliveryQuery;
import io.leadrelay.store.DeliveryState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The command line's grammar: what each form means, and the sentence for each mistake. */
class CliCommandTest {

  private static final String ID = "01KAQ3V8N5X6Q0G1M2ZC4T7H9E";

  @Test
  void listTakesStateLimitAndCursorInEitherSpelling() {
    CliCommand plain = CliCommand.parse(new String[] {"deliveries", "list"});
    assertEquals(Action.LIST, plain.action());
    assertEquals(new DeliveryQuery(null, 50, null), plain.query());

    CliCommand full = CliCommand.parse(new String[] {"deliveries", "list", "--state=dead", "--limit", "500",
        "--before", ID.toLowerCase()});
    assertEquals(new DeliveryQuery(DeliveryState.DEAD, 500, ID), full.query());
  }

  @Test
  void showAndRetryTakeOneIdAndRetryAlternativelyAState() {
    assertEquals(new CliCommand(Action.SHOW, null, ID, null), CliCommand.parse(new String[] {"deliveries", "show", ID}));
    assertEquals(new CliCommand(Action.RETRY, null, ID, null), CliCommand.parse(new String[] {"deliveries", "retry", ID}));
    assertEquals(new CliCommand(Action.RETRY_ALL, null, null, DeliveryState.PENDING),
        CliCommand.parse(new String[] {"deliveries", "retry", "--state", "pending"}));
  }

  @Test
  void helpWinsAnywhere() {
    assertEquals(Action.HELP, CliCommand.parse(new String[] {"--help"}).action());
    assertEquals(Action.HELP, CliCommand.parse(new String[] {"deliveries", "list", "-h"}).action());
  }

  @Test
  void mistakesAreNamed() {
    assertMistake("Unknown option '--colour'.", "deliveries", "list", "--colour", "red");
    assertMistake("--state needs a value.", "deliveries", "list", "--state");
    assertMistake("--limit is given twice.", "deliveries", "list", "--limit", "1", "--limit", "2");
    assertMistake("--limit must be a whole number from 1 to 500, got 'many'.", "deliveries", "list", "--limit",
        "many");
    assertMistake("--state must be DEAD or PENDING to replay deliveries, got DELIVERED: replaying delivered ones"
        + " would create second leads.", "deliveries", "retry", "--state", "delivered");
    assertMistake("deliveries show takes one delivery id.", "deliveries", "show");
    assertMistake("Unknown deliveries command 'purge': use list, show or retry.", "deliveries", "purge");
    assertMistake("Unknown command 'start'.", "start");
  }

  private static void assertMistake(String message, String... args) {
    assertEquals(message, assertThrows(UsageException.class, () -> CliCommand.parse(args)).getMessage());
  }
}
