package io.leadrelay.cli;

import io.leadrelay.store.DeliveryRecord;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Deliveries as a table for a terminal: one line each with id, state, integration, arrival (UTC, to the second),
 * attempts, lead id and the last error cut to fit, columns padded to their widest cell.
 */
final class DeliveryTable {

  static final int MAX_ERROR = 60;
  private static final String[] HEADER = {"ID", "STATE", "INTEGRATION", "RECEIVED (UTC)", "ATTEMPTS", "LEAD", "LAST ERROR"};
  private static final DateTimeFormatter RECEIVED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
      .withZone(ZoneOffset.UTC);

  private DeliveryTable() {
  }

  static String format(List<DeliveryRecord> records) {
    List<String[]> rows = new ArrayList<>();
    rows.add(HEADER);
    for (DeliveryRecord record : records) {
      rows.add(new String[] {
          record.delivery().id(),
          record.state().name(),
          record.delivery().integration(),
          RECEIVED.format(record.delivery().receivedAt()),
          String.valueOf(record.attemptsMade()),
          record.leadId() == null ? "-" : record.leadId().toString(),
          record.lastError() == null ? "-" : truncate(record.lastError())});
    }
    int[] widths = new int[HEADER.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder table = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == row.length - 1 ? row[i] : pad(row[i], widths[i] + 2));
      }
      table.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return table.toString();
  }

  /** One line, at most {@link #MAX_ERROR} characters: Bitrix24's reasons can be long and multi-line. */
  static String truncate(String text) {
    String line = text.replaceAll("\\s+", " ").trim();
    return line.length() <= MAX_ERROR ? line : line.substring(0, MAX_ERROR - 3) + "...";
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(width - text.length());
  }
}
