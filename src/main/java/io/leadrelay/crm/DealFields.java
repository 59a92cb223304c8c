package io.leadrelay.crm;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * Splits the fields of a mapped lead into a contact and a deal, for integrations whose {@code target} is
 * {@code deal} (portals without leads). The person goes to the contact (name, phones, e-mails, messengers); what
 * the subscriber asked for goes to the deal (title, comments, UTM tags, amount, source, custom fields). Both carry
 * ORIGINATOR_ID/ORIGIN_ID, so that after a lost answer the relay finds the contact and the deal a delivery made.
 * Fields only leads have (STATUS_ID, STATUS_DESCRIPTION, COMPANY_TITLE) are left out: a deal's stage is the
 * portal's first one. Pure.
 */
public final class DealFields {

  /** A contact and a deal for one delivery; the deal gets CONTACT_ID when the contact is known. */
  public record Split(JsonObject contact, JsonObject deal) {

    /** The deal's fields bound to {@code contactId}. */
    public JsonObject dealFor(Object contactId) {
      return deal.copy().put("CONTACT_ID", contactId);
    }
  }

  /** Fields of the person: the contact only. */
  static final Set<String> CONTACT_ONLY = Set.of("NAME", "LAST_NAME", "SECOND_NAME", "PHONE", "EMAIL", "IM", "WEB",
      "BIRTHDATE", "POST", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY", "ADDRESS_POSTAL_CODE", "ADDRESS_REGION",
      "ADDRESS_PROVINCE", "ADDRESS_COUNTRY", "ADDRESS_COUNTRY_CODE", "HONORIFIC");

  /** Fields both get: who is responsible, where it came from, and the relay's own look-up keys. */
  static final Set<String> BOTH = Set.of("ASSIGNED_BY_ID", "OPENED", "SOURCE_ID", "SOURCE_DESCRIPTION",
      "ORIGINATOR_ID", "ORIGIN_ID");

  /** Lead fields a deal does not have. */
  static final Set<String> LEAD_ONLY = Set.of("STATUS_ID", "STATUS_DESCRIPTION", "COMPANY_TITLE");

  private DealFields() {
  }

  /** The contact's and the deal's fields; everything else (TITLE, COMMENTS, UTM_*, UF_CRM_*, …) goes to the deal. */
  public static Split split(JsonObject leadFields) {
    JsonObject contact = new JsonObject();
    JsonObject deal = new JsonObject();
    for (String field : leadFields.fieldNames()) {
      Object value = leadFields.getValue(field);
      if (CONTACT_ONLY.contains(field)) {
        contact.put(field, value);
      } else if (BOTH.contains(field)) {
        contact.put(field, value);
        deal.put(field, value);
      } else if (!LEAD_ONLY.contains(field)) {
        deal.put(field, value);
      }
    }
    return new Split(contact, deal);
  }
}
