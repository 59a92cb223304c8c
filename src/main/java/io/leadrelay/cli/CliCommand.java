package io.leadrelay.cli;

import io.leadrelay.http.DeliveryQuery;
import io.leadrelay.store.DeliveryState;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One command-line request, parsed from the arguments: list, show, retry one, retry all of a state, or help.
 * Parsing is plain and strict (no dependency): an unknown word or option is a usage error, never ignored.
 */
record CliCommand(Action action, DeliveryQuery query, String id, DeliveryState state) {

  enum Action { HELP, LIST, SHOW, RETRY, RETRY_ALL }

  /** The arguments do not form a command; the message says why, and the usage follows it. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message, null, false, false);
    }
  }

  static final String USAGE = String.join(System.lineSeparator(),
      "Usage:",
      "  java -jar leadrelay.jar                        start the relay",
      "  java -jar leadrelay.jar deliveries list [--state PENDING|DELIVERED|DEAD] [--limit 1-500] [--before ID]",
      "  java -jar leadrelay.jar deliveries show ID",
      "  java -jar leadrelay.jar deliveries retry ID",
      "  java -jar leadrelay.jar deliveries retry --state DEAD|PENDING",
      "  java -jar leadrelay.jar --help",
      "",
      "The deliveries commands read the relay's configuration (conf/config.json or CONFIG_PATH, and DATA_DIR) and",
      "work on its delivery store, also while the relay runs. A replayed delivery is sent on the relay's next sweep.",
      "Exit codes: 0 done, 1 no such delivery or not replayable, 2 usage or configuration error.");

  private static final Set<String> HELP = Set.of("--help", "-h", "help");

  static CliCommand parse(String[] args) {
    List<String> words = List.of(args);
    if (words.isEmpty() || words.stream().anyMatch(HELP::contains)) {
      return new CliCommand(Action.HELP, null, null, null);
    }
    if (!words.get(0).equals("deliveries")) {
      throw new UsageException("Unknown command '" + words.get(0) + "'.");
    }
    if (words.size() < 2) {
      throw new UsageException("Say what to do with deliveries: list, show or retry.");
    }
    String verb = words.get(1);
    List<String> rest = words.subList(2, words.size());
    try {
      return switch (verb) {
        case "list" -> list(rest);
        case "show" -> new CliCommand(Action.SHOW, null, onlyId(rest, "show"), null);
        case "retry" -> retry(rest);
        default -> throw new UsageException("Unknown deliveries command '" + verb + "': use list, show or retry.");
      };
    } catch (IllegalArgumentException e) {
      // DeliveryQuery's sentences name the option ("state must be ..."), so they read well with a dash.
      throw new UsageException("--" + e.getMessage());
    }
  }

  private static CliCommand list(List<String> rest) {
    Parsed parsed = Parsed.of(rest, Set.of("state", "limit", "before"));
    if (!parsed.positional().isEmpty()) {
      throw new UsageException("deliveries list takes no '" + parsed.positional().get(0) + "'.");
    }
    Map<String, String> options = parsed.options();
    return new CliCommand(Action.LIST,
        DeliveryQuery.parse(options.get("state"), options.get("limit"), options.get("before")), null, null);
  }

  private static CliCommand retry(List<String> rest) {
    Parsed parsed = Parsed.of(rest, Set.of("state"));
    String state = parsed.options().get("state");
    if (state != null && parsed.positional().isEmpty()) {
      return new CliCommand(Action.RETRY_ALL, null, null, DeliveryQuery.replayableState(state));
    }
    if (state != null) {
      throw new UsageException("deliveries retry takes either an id or --state, not both.");
    }
    return new CliCommand(Action.RETRY, null, onlyId(rest, "retry"), null);
  }

  private static String onlyId(List<String> rest, String verb) {
    if (rest.size() != 1 || rest.get(0).startsWith("--")) {
      throw new UsageException("deliveries " + verb + " takes one delivery id.");
    }
    return rest.get(0).trim().toUpperCase(java.util.Locale.ROOT);
  }

  /** Options as {@code --name value} or {@code --name=value}, each at most once, and the other words. */
  private record Parsed(Map<String, String> options, List<String> positional) {

    static Parsed of(List<String> words, Set<String> known) {
      Map<String, String> options = new LinkedHashMap<>();
      List<String> positional = new java.util.ArrayList<>();
      for (int i = 0; i < words.size(); i++) {
        String word = words.get(i);
        if (!word.startsWith("--")) {
          positional.add(word);
          continue;
        }
        int equals = word.indexOf('=');
        String name = word.substring(2, equals < 0 ? word.length() : equals);
        if (!known.contains(name)) {
          throw new UsageException("Unknown option '--" + name + "'.");
        }
        String value;
        if (equals >= 0) {
          value = word.substring(equals + 1);
        } else if (i + 1 < words.size() && !words.get(i + 1).startsWith("--")) {
          value = words.get(++i);
        } else {
          throw new UsageException("--" + name + " needs a value.");
        }
        if (options.put(name, value) != null) {
          throw new UsageException("--" + name + " is given twice.");
        }
      }
      return new Parsed(options, positional);
    }
  }
}
