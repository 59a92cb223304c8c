package io.leadrelay.bitrix;

/**
 * How a Bitrix24 portal's CRM works (reference: bitrix24-rest.md §7): {@code crm.settings.mode.get} answers 1 for
 * the classic CRM with leads, 2 for "simple CRM" without them, where a lead is turned into a deal and a contact at
 * once, but only when it has a NAME.
 */
public enum CrmMode {
  CLASSIC("classic"),
  SIMPLE("simple"),
  /** Not asked yet, or the portal did not answer: delivery goes on as configured. */
  UNKNOWN("unknown");

  private final String label;

  CrmMode(String label) {
    this.label = label;
  }

  /** As /health shows it. */
  public String label() {
    return label;
  }

  /** The mode for {@code crm.settings.mode.get}'s {@code result} (a number, or its text); UNKNOWN for anything else. */
  public static CrmMode ofResult(Object result) {
    String text = result == null ? "" : String.valueOf(result).trim();
    return switch (text) {
      case "1" -> CLASSIC;
      case "2" -> SIMPLE;
      default -> UNKNOWN;
    };
  }
}
