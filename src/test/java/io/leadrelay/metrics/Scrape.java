package io.leadrelay.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads values out of a Prometheus text scrape the way a query would: a metric name and some of its labels. */
public final class Scrape {

  private Scrape() {
  }

  /**
   * The sum of the samples of {@code name} whose labels include every {@code label=value} given (0 when none):
   * a query such as {@code sum(name{label="value"})}.
   */
  public static double value(String scrape, String name, String... labels) {
    Map<String, String> wanted = new HashMap<>();
    for (String label : labels) {
      int eq = label.indexOf('=');
      wanted.put(label.substring(0, eq), label.substring(eq + 1));
    }
    double sum = 0;
    for (String line : scrape.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      int valueAt = line.lastIndexOf(' ');
      Map<String, String> has = labels(line.substring(name.length(), valueAt));
      if (has.entrySet().containsAll(wanted.entrySet())) {
        sum += Double.parseDouble(line.substring(valueAt + 1));
      }
    }
    return sum;
  }

  private static Map<String, String> labels(String block) {
    Map<String, String> labels = new HashMap<>();
    if (!block.startsWith("{")) {
      return labels;
    }
    for (String pair : List.of(block.substring(1, block.lastIndexOf('}')).split("\",", -1))) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf("=\"");
      String value = pair.substring(eq + 2);
      labels.put(pair.substring(0, eq), value.endsWith("\"") ? value.substring(0, value.length() - 1) : value);
    }
    return labels;
  }
}
