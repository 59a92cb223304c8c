package io.leadrelay.crm;

import io.leadrelay.config.RepeatConfig;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What one webhook becomes under its integration's {@code repeat} policy, given the leads and contacts found with
 * the same phone number or e-mail. Of those, only records that really share a value with this lead (the search
 * answers for a whole batch's values at once) and were changed within the window count; the most recently changed
 * one is used. With no such record every policy creates a new lead. Pure.
 */
public final class RepeatDecision {

  /** What to do in Bitrix24 for the webhook. */
  public sealed interface Action {
  }

  /** crm.lead.add with these fields (for {@code link}: with the contact's CONTACT_ID). */
  public record Create(JsonObject fields, Long contactId) implements Action {
  }

  /** crm.timeline.comment.add on this lead or contact ({@code entityType} "lead" or "contact"). */
  public record Comment(String entityType, long entityId, String text) implements Action {
  }

  /** crm.lead.update with {@code fill} (when not empty), then the comment on the lead. */
  public record Update(long leadId, JsonObject fill, String text) implements Action {
  }

  private RepeatDecision() {
  }

  /**
   * @param leads    leads found (crm.lead.list rows with ID, DATE_MODIFY, CONTACT_ID, PHONE, EMAIL and the rest)
   * @param contacts contacts found (crm.contact.list rows with ID, DATE_MODIFY, PHONE, EMAIL)
   */
  public static Action decide(String deliveryId, JsonObject fields, RepeatConfig repeat, Instant now,
                              List<JsonObject> leads, List<JsonObject> contacts) {
    Optional<JsonObject> lead = newest(fields, leads, repeat.window(), now);
    Optional<JsonObject> contact = newest(fields, contacts, repeat.window(), now);
    return switch (repeat.policy()) {
      case NEW -> new Create(fields, null);
      case COMMENT -> lead.<Action>map(l -> new Comment("lead", id(l), RepeatComment.text(deliveryId, fields)))
          .or(() -> contact.map(c -> new Comment("contact", id(c), RepeatComment.text(deliveryId, fields))))
          .orElseGet(() -> new Create(fields, null));
      case UPDATE -> lead.<Action>map(l -> new Update(id(l), LeadFiller.fill(l, fields),
              RepeatComment.text(deliveryId, fields)))
          .or(() -> contact.map(c -> new Comment("contact", id(c), RepeatComment.text(deliveryId, fields))))
          .orElseGet(() -> new Create(fields, null));
      case LINK -> {
        // A contact that matches itself, else the contact of a matching lead (a converted or linked one).
        Long contactId = contact.map(RepeatDecision::id)
            .or(() -> lead.map(l -> positive(l.getValue("CONTACT_ID")))).orElse(null);
        yield new Create(contactId == null ? fields : fields.copy().put("CONTACT_ID", contactId), contactId);
      }
    };
  }

  /** The record, of those sharing a phone or e-mail with {@code fields} and changed within the window, changed last. */
  static Optional<JsonObject> newest(JsonObject fields, List<JsonObject> found, Duration window, Instant now) {
    Instant oldest = window == null ? Instant.MIN : now.minus(window);
    return found.stream()
        .filter(record -> positive(record.getValue("ID")) != null)
        .filter(record -> DuplicateFinder.shareCommunication(fields, record))
        .filter(record -> !changedAt(record).isBefore(oldest))
        .max(Comparator.comparing(RepeatDecision::changedAt).thenComparing(RepeatDecision::id));
  }

  /**
   * When the record last changed (DATE_MODIFY, else DATE_CREATE). A record without a readable date is one this
   * sending loop has just created, or one the portal did not date: it counts as changed now.
   */
  static Instant changedAt(JsonObject record) {
    for (String field : List.of("DATE_MODIFY", "DATE_CREATE")) {
      if (record.getValue(field) instanceof String date && !date.isBlank()) {
        try {
          return OffsetDateTime.parse(date.trim()).toInstant();
        } catch (DateTimeParseException e) {
          // Try the other date, then fall back to "now".
        }
      }
    }
    return Instant.MAX;
  }

  private static long id(JsonObject record) {
    return positive(record.getValue("ID"));
  }

  private static Long positive(Object value) {
    if (value instanceof Number number && number.longValue() > 0) {
      return number.longValue();
    }
    if (value instanceof String text && text.trim().matches("\\d{1,18}")) {
      long id = Long.parseLong(text.trim());
      return id > 0 ? id : null;
    }
    return null;
  }
}
