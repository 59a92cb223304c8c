package io.leadrelay.mapping;

import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * How one integration turns a BotHelp payload into crm.lead.add fields. Defaults reproduce the seed PHP script.
 *
 * @param titleTemplate      TITLE, with {@code {payload key}} placeholders
 * @param phoneValueType     VALUE_TYPE of the PHONE multi-field (WORK, MOBILE, ...)
 * @param emailValueType     VALUE_TYPE of the EMAIL multi-field (WORK, HOME, ...)
 * @param assignedById       ASSIGNED_BY_ID: the responsible Bitrix24 user
 * @param sourceId           SOURCE_ID (directory SOURCE), e.g. WEB
 * @param sourceDescription  SOURCE_DESCRIPTION, or null for none
 * @param statusId           STATUS_ID, or null for the portal's default
 * @param opened             OPENED ("Y"/"N"), or null for the portal's default
 * @param registerSonetEvent params.REGISTER_SONET_EVENT
 * @param systemFields       payload keys never copied into COMMENTS
 * @param fieldMap           payload key → Bitrix24 field; a mapped key leaves COMMENTS
 * @param originatorId       ORIGINATOR_ID on every lead (ORIGIN_ID is the delivery id)
 * @param phoneRegion        region read for phone numbers without a country code (ISO 3166, upper case)
 * @param phoneFormat        how recognised phone numbers are sent
 */
public record MappingConfig(String titleTemplate, String phoneValueType, String emailValueType, int assignedById,
                            String sourceId, String sourceDescription, String statusId, String opened,
                            boolean registerSonetEvent, List<String> systemFields, Map<String, String> fieldMap,
                            String originatorId, String phoneRegion, PhoneNormaliser.Format phoneFormat) {

  /** With the default phone handling: Russian numbers, sent in E.164. */
  public MappingConfig(String titleTemplate, String phoneValueType, String emailValueType, int assignedById,
                       String sourceId, String sourceDescription, String statusId, String opened,
                       boolean registerSonetEvent, List<String> systemFields, Map<String, String> fieldMap,
                       String originatorId) {
    this(titleTemplate, phoneValueType, emailValueType, assignedById, sourceId, sourceDescription, statusId, opened,
        registerSonetEvent, systemFields, fieldMap, originatorId, PhoneNormaliser.DEFAULT_REGION,
        PhoneNormaliser.Format.E164);
  }

  public static final String DEFAULT_TITLE = "Новый лид из BotHelp";

  /** The seed script's system fields plus created_at_show. */
  public static final List<String> DEFAULT_SYSTEM_FIELDS = List.of(
      "bothelp_user_id", "user_id", "messenger_username", "created_at", "first_contact_at", "last_contact_at",
      "profile_link", "ref", "conversations_count", "cuid", "created_at_show");

  public static MappingConfig defaults() {
    return new MappingConfig(DEFAULT_TITLE, "WORK", "WORK", 1, "WEB", null, null, null, true,
        DEFAULT_SYSTEM_FIELDS, Map.of(), "leadrelay");
  }

  /**
   * Parses an integration's {@code "mapping"} object (keys in MAPPING-KEYS.md) on top of {@link #defaults()}.
   *
   * @param json the mapping object; null or absent keys keep the defaults
   * @param path where the object sits in the config, e.g. {@code integrations.default.mapping}, so that errors
   *             name the full key
   * @throws io.leadrelay.config.ConfigException one sentence naming the key, for an unknown key or a bad value
   */
  public static MappingConfig fromJson(JsonObject json, String path) {
    return new MappingConfigReader(path).read(json);
  }
}
