package io.leadrelay.crm;

import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The timeline comment a repeat webhook becomes (policies {@code comment} and {@code update}): what the subscriber
 * sent, as the lead would have shown it, and a last line that names the delivery. That line is the marker by which
 * the relay, after an attempt whose answer was lost, finds the comment it may already have added
 * ({@code crm.timeline.comment.list} has no text filter, so the entity's newest comments are searched for it).
 * Pure.
 */
public final class RepeatComment {

  /** The fields shown, in order, with their Russian labels: the sales team reads them in Bitrix24. */
  private static final List<String[]> SHOWN = List.of(
      new String[] {"TITLE", "Заявка"},
      new String[] {"NAME", "Имя"},
      new String[] {"LAST_NAME", "Фамилия"},
      new String[] {"SOURCE_DESCRIPTION", "Источник"},
      new String[] {"UTM_SOURCE", "utm_source"},
      new String[] {"UTM_MEDIUM", "utm_medium"},
      new String[] {"UTM_CAMPAIGN", "utm_campaign"},
      new String[] {"UTM_CONTENT", "utm_content"},
      new String[] {"UTM_TERM", "utm_term"});

  /** Delivery ids are letters, digits and {@code - _}: the marker cannot be mistaken for text around it. */
  private static final Pattern DELIVERY_ID = Pattern.compile("[A-Za-z0-9_-]{1,100}");

  private RepeatComment() {
  }

  /** The marker line that names the delivery: {@code [LeadRelay delivery 01J…]}. */
  public static String marker(String deliveryId) {
    if (deliveryId == null || !DELIVERY_ID.matcher(deliveryId).matches()) {
      throw new IllegalArgumentException("not a delivery id: " + deliveryId);
    }
    return "[LeadRelay delivery " + deliveryId + "]";
  }

  /** The comment's text for a lead's fields, ending with the delivery's marker. */
  public static String text(String deliveryId, JsonObject fields) {
    StringBuilder text = new StringBuilder("Повторное обращение из BotHelp\n");
    for (String[] shown : SHOWN) {
      line(text, shown[1], fields.getValue(shown[0]));
    }
    for (DuplicateFinder.Communication type : DuplicateFinder.Communication.values()) {
      List<String> values = DuplicateFinder.values(fields, type);
      if (!values.isEmpty()) {
        line(text, type == DuplicateFinder.Communication.PHONE ? "Телефон" : "E-mail", String.join(", ", values));
      }
    }
    Object comments = fields.getValue("COMMENTS");
    if (comments instanceof String notes && !notes.isBlank()) {
      text.append('\n').append(notes.strip()).append('\n');
    }
    return text.append('\n').append(marker(deliveryId)).toString();
  }

  /** Whether a comment's text is the one this delivery added. */
  public static boolean isFor(String deliveryId, Object comment) {
    return comment instanceof String text && text.contains(marker(deliveryId));
  }

  private static void line(StringBuilder text, String label, Object value) {
    if (value != null && !(value instanceof String s && s.isBlank()) && !(value instanceof JsonObject)) {
      text.append(label).append(": ").append(value).append('\n');
    }
  }
}
