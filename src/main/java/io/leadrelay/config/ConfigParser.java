package io.leadrelay.config;

import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.store.PgSettings;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds the typed {@link RelayConfig} from the configuration JSON, with the documented environment variables
 * (present as top-level keys, the way vertx-config merges them) laid on top. Pure: no files, no Vert.x instance.
 * An integration without a secret gets {@code null} here; {@link ConfigLoader} generates and keeps one.
 */
public final class ConfigParser {

  /** Environment variable → the configuration key it sets. */
  public static final Map<String, String> ENV_KEYS = envKeys();

  public static final String DEFAULT_INTEGRATION = "default";

  private static final Pattern INTEGRATION_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9._~-]{16,256}");

  private ConfigParser() {
  }

  private static Map<String, String> envKeys() {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("HTTP_HOST", "http.host");
    keys.put("HTTP_PORT", "http.port");
    keys.put("HTTP_INSTANCES", "http.instances");
    keys.put("HTTP_BODY_LIMIT", "http.bodyLimit");
    keys.put("HTTP_IDLE_TIMEOUT_SECONDS", "http.idleTimeoutSeconds");
    keys.put("HTTP_REQUEST_TIMEOUT_SECONDS", "http.requestTimeoutSeconds");
    keys.put("TRUSTED_PROXIES", "http.trustedProxies");
    keys.put("DATA_DIR", "dataDir");
    keys.put("LOG_DIR", "logs.dir");
    keys.put("LOG_MAX_FILE_SIZE", "logs.maxFileSize");
    keys.put("LOG_MAX_DAYS", "logs.maxDays");
    keys.put("LOG_TOTAL_SIZE_CAP", "logs.totalSizeCap");
    keys.put("BITRIX_CONNECT_TIMEOUT_MS", "bitrix.connectTimeoutMs");
    keys.put("BITRIX_REQUEST_TIMEOUT_MS", "bitrix.requestTimeoutMs");
    keys.put("BITRIX_MAX_CONCURRENT", "bitrix.maxConcurrentPerPortal");
    keys.put("BITRIX_MAX_ANSWER_BYTES", "bitrix.maxAnswerBytes");
    keys.put("BITRIX_REDIRECT_HOSTS", "bitrix.redirectHosts");
    keys.put("BITRIX_PLAN", "bitrix.plan");
    keys.put("BITRIX_BURST", "bitrix.burst");
    keys.put("BITRIX_RATE", "bitrix.ratePerSecond");
    keys.put("BITRIX_OPERATING_LIMIT_SECONDS", "bitrix.operatingLimitSeconds");
    keys.put("BITRIX_BATCH_SIZE", "bitrix.batchSize");
    keys.put("STORE_SYNCHRONOUS", "delivery.storeSynchronous");
    keys.put("STORE", "store.type");
    keys.put("DATABASE_URL", "store.url");
    keys.put("STORE_POOL_SIZE", "store.poolSize");
    keys.put("NODE_ID", "store.nodeId");
    keys.put("PGHOST", "store.host");
    keys.put("PGPORT", "store.port");
    keys.put("PGDATABASE", "store.database");
    keys.put("PGUSER", "store.user");
    keys.put("PGPASSWORD", "store.password");
    keys.put("PGSSLMODE", "store.sslMode");
    keys.put("RETRY_BASE_MS", "delivery.retryBaseMs");
    keys.put("RETRY_MAX_SECONDS", "delivery.retryMaxSeconds");
    keys.put("MAX_AGE_HOURS", "delivery.maxAgeHours");
    keys.put("REPEAT_WINDOW_SECONDS", "delivery.repeatWindowSeconds");
    keys.put("LEASE_SECONDS", "delivery.leaseSeconds");
    keys.put("SWEEP_INTERVAL_MS", "delivery.sweepIntervalMs");
    keys.put("RETENTION_DAYS", "delivery.retentionDays");
    keys.put("HEALTH_STALL_SECONDS", "delivery.stallSeconds");
    keys.put("ADMIN_TOKEN", "admin.token");
    // Alerts (AlertConfigReader): channels, the SMTP server for e-mail, thresholds and storm control.
    keys.put("ALERT_WEBHOOK_URL", "alerts.webhookUrl");
    keys.put("ALERT_TELEGRAM_BOT_TOKEN", "alerts.telegram.botToken");
    keys.put("ALERT_TELEGRAM_CHAT_ID", "alerts.telegram.chatId");
    keys.put("ALERT_TELEGRAM_API_URL", "alerts.telegram.apiUrl");
    keys.put("ALERT_EMAIL_TO", "alerts.email.to");
    keys.put("SMTP_HOST", "alerts.smtp.host");
    keys.put("SMTP_PORT", "alerts.smtp.port");
    keys.put("SMTP_USER", "alerts.smtp.user");
    keys.put("SMTP_PASSWORD", "alerts.smtp.password");
    keys.put("SMTP_FROM", "alerts.smtp.from");
    keys.put("ALERT_BACKLOG_AGE_SECONDS", "alerts.backlogAgeSeconds");
    keys.put("ALERT_MAX_PER_HOUR", "alerts.maxPerHour");
    keys.put("ALERT_DEAD_AT_ONCE", "alerts.deadAtOnce");
    keys.put("ALERT_DIGEST_MINUTES", "alerts.digestMinutes");
    keys.put("ALERT_CHECK_INTERVAL_MS", "alerts.checkIntervalMs");
    keys.put("ADMIN_URL", "alerts.adminUrl");
    keys.put("METRICS_ENABLED", "metrics.enabled");
    keys.put("METRICS_PORT", "metrics.port");
    // Several nodes as one relay. STORE is the delivery store's choice (sqlite or postgres); a cluster needs postgres.
    keys.put("STORE", "store.type");
    keys.put("CLUSTER_MEMBERS", "cluster.members");
    keys.put("CLUSTER_HOST", "cluster.host");
    keys.put("CLUSTER_PORT", "cluster.port");
    keys.put("OWNER_LEASE_SECONDS", "cluster.ownerLeaseSeconds");
    keys.put("BOTHELP_SECRET", "integrations.default.secret");
    keys.put("BITRIX_WEBHOOK_URL", "integrations.default.portal.webhookUrl");
    // OAuth application mode, instead of BITRIX_WEBHOOK_URL.
    keys.put("BITRIX_PORTAL_URL", "integrations.default.portal.oauth.portalUrl");
    keys.put("BITRIX_CLIENT_ID", "integrations.default.portal.oauth.clientId");
    keys.put("BITRIX_CLIENT_SECRET", "integrations.default.portal.oauth.clientSecret");
    keys.put("BITRIX_ACCESS_TOKEN", "integrations.default.portal.oauth.accessToken");
    keys.put("BITRIX_REFRESH_TOKEN", "integrations.default.portal.oauth.refreshToken");
    keys.put("BITRIX_OAUTH_URL", "integrations.default.portal.oauth.refreshUrl");
    keys.put("BITRIX_ASSIGNED_BY_ID", "integrations.default.mapping.assignedById");
    keys.put("BITRIX_SOURCE_ID", "integrations.default.mapping.sourceId");
    keys.put("LEAD_TITLE", "integrations.default.mapping.title");
    keys.put("PHONE_REGION", "integrations.default.mapping.phoneRegion");
    keys.put("CRM_TARGET", "integrations.default.target");
    keys.put("REPEAT_POLICY", "integrations.default.repeat");
    keys.put("REPEAT_LOOKUP_DAYS", "integrations.default.repeatLookupDays");
    return Map.copyOf(keys);
  }

  /**
   * Parses the configuration with the environment variables on top. A value in the file that a variable overrides
   * is checked too: it is what the relay would run with once the variable goes, and a mistake hidden today would
   * stop a later start for no visible reason.
   */
  public static RelayConfig parse(JsonObject merged) {
    RelayConfig config = parse(merged, true);
    boolean hidesFileValues = ENV_KEYS.entrySet().stream()
        .anyMatch(env -> given(merged.getValue(env.getKey())) && inFile(merged, env.getValue()));
    if (hidesFileValues) {
      try {
        parse(merged, false);
      } catch (ConfigException e) {
        throw new ConfigException("The configuration file has a value that an environment variable overrides, but"
            + " it is wrong all the same (fix or remove it): " + e.getMessage());
      }
    }
    return config;
  }

  /** @param environmentWins false to keep the file's value wherever the file has one (to check those values) */
  private static RelayConfig parse(JsonObject merged, boolean environmentWins) {
    JsonObject json = merged.copy();
    Map<String, String> envSources = new HashMap<>();
    for (Map.Entry<String, String> env : ENV_KEYS.entrySet()) {
      Object value = json.remove(env.getKey());
      if (given(value) && (environmentWins || !inFile(merged, env.getValue()))) {
        put(json, env.getValue(), value.toString().trim());
        envSources.put(env.getValue(), env.getKey());
      }
    }
    ConfigReader read = new ConfigReader(envSources);
    read.rejectUnknown(json, "", Set.of("http", "dataDir", "logs", "bitrix", "delivery", "admin", "integrations",
        "store", "cluster", "alerts", "metrics"));

    JsonObject httpJson = read.object(json, "http", "http");
    read.rejectUnknown(httpJson, "http", Set.of("host", "port", "instances", "bodyLimit", "idleTimeoutSeconds",
        "requestTimeoutSeconds", "trustedProxies"));
    HttpConfig http = new HttpConfig(
        read.string(httpJson, "host", "http.host", "0.0.0.0"),
        read.integer(httpJson, "port", "http.port", 8080, 0, 65535),
        read.integer(httpJson, "instances", "http.instances", Runtime.getRuntime().availableProcessors(), 1, 256),
        read.integer(httpJson, "bodyLimit", "http.bodyLimit", 64 * 1024, 1024, 16 * 1024 * 1024),
        read.integer(httpJson, "idleTimeoutSeconds", "http.idleTimeoutSeconds", 30, 1, 3600),
        read.integer(httpJson, "requestTimeoutSeconds", "http.requestTimeoutSeconds", 10, 1, 300),
        trustedProxies(read, httpJson));

    Path dataDir = Path.of(read.string(json, "dataDir", "dataDir", "./data"));

    JsonObject logsJson = read.object(json, "logs", "logs");
    read.rejectUnknown(logsJson, "logs", Set.of("dir", "maxFileSize", "maxDays", "totalSizeCap"));
    LogConfig logs = new LogConfig(
        Path.of(read.string(logsJson, "dir", "logs.dir", "./logs")),
        size(read, logsJson, "maxFileSize", "logs.maxFileSize", "50MB"),
        read.integer(logsJson, "maxDays", "logs.maxDays", 30, 1, 3650),
        size(read, logsJson, "totalSizeCap", "logs.totalSizeCap", "1GB"));

    JsonObject bitrixJson = read.object(json, "bitrix", "bitrix");
    read.rejectUnknown(bitrixJson, "bitrix", Set.of("connectTimeoutMs", "requestTimeoutMs", "maxConcurrentPerPortal",
        "plan", "burst", "ratePerSecond", "operatingLimitSeconds", "batchSize", "maxAnswerBytes", "redirectHosts"));
    BitrixHttpConfig bitrix = new BitrixHttpConfig(
        read.integer(bitrixJson, "connectTimeoutMs", "bitrix.connectTimeoutMs", 5_000, 100, 120_000),
        read.integer(bitrixJson, "requestTimeoutMs", "bitrix.requestTimeoutMs", 30_000, 100, 600_000),
        read.integer(bitrixJson, "maxConcurrentPerPortal", "bitrix.maxConcurrentPerPortal", 2, 1, 50),
        read.integer(bitrixJson, "maxAnswerBytes", "bitrix.maxAnswerBytes", BitrixHttpConfig.DEFAULT_MAX_ANSWER_BYTES,
            64 * 1024, 1024 * 1024 * 1024),
        redirectHosts(read, bitrixJson));

    StoreConfig store = store(read, json);
    return new RelayConfig(http, dataDir, logs, bitrix, limits(read, bitrixJson), delivery(read, json), admin(read, json),
        integrations(read, json), store, cluster(read, json, store), AlertConfigReader.read(read, json),
        metrics(read, json, http));
  }


  /**
   * {@code store.type} (STORE): sqlite (default) or postgres. PostgreSQL is reached by {@code store.url}
   * (DATABASE_URL) or, without one, by the libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD,
   * PGSSLMODE). With sqlite the PostgreSQL settings are not read: PG* variables set for psql change nothing.
   */
  private static StoreConfig store(ConfigReader read, JsonObject json) {
    JsonObject store = read.object(json, "store", "store");
    read.rejectUnknown(store, "store", Set.of("type", "url", "poolSize", "nodeId", "host", "port", "database", "user",
        "password", "sslMode"));
    String type = read.string(store, "type", "store.type", "sqlite").toLowerCase(java.util.Locale.ROOT);
    String nodeId = read.string(store, "nodeId", "store.nodeId", null);
    switch (type) {
      case "sqlite":
        return new StoreConfig(StoreConfig.Kind.SQLITE, null, nodeId);
      case "postgres", "postgresql":
        break;
      default:
        throw new ConfigException(read.name("store.type") + " must be sqlite or postgres, got \"" + type + "\".");
    }
    int poolSize = read.integer(store, "poolSize", "store.poolSize", PgSettings.DEFAULT_POOL_SIZE, 1, 100);
    String url = read.string(store, "url", "store.url", null);
    try {
      if (url != null) {
        return new StoreConfig(StoreConfig.Kind.POSTGRES, PgSettings.fromUrl(url, poolSize), nodeId);
      }
      Map<String, String> libpq = new HashMap<>();
      Map.of("PGHOST", "host", "PGPORT", "port", "PGDATABASE", "database", "PGUSER", "user",
          "PGPASSWORD", "password", "PGSSLMODE", "sslMode").forEach((variable, key) -> {
            Object value = store.getValue(key);
            if (value != null) {
              libpq.put(variable, value.toString());
            }
          });
      return new StoreConfig(StoreConfig.Kind.POSTGRES, PgSettings.fromEnvironment(libpq, poolSize), nodeId);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static final Set<String> WILDCARD_HOSTS = Set.of("0.0.0.0", "::", "[::]", "*");

  private static ClusterConfig cluster(ConfigReader read, JsonObject json, StoreConfig store) {
    JsonObject cluster = read.object(json, "cluster", "cluster");
    read.rejectUnknown(cluster, "cluster", Set.of("members", "host", "port", "ownerLeaseSeconds"));
    int port = read.integer(cluster, "port", "cluster.port", ClusterConfig.DEFAULT_PORT, 1, 65534);
    String list = read.commaList(cluster, "members", "cluster.members", "host names");
    List<String> members = ClusterMembers.parse(read.name("cluster.members"), list == null ? "" : list, port);
    if (!members.isEmpty() && store.kind() != StoreConfig.Kind.POSTGRES) {
      throw new ConfigException(read.name("cluster.members") + " is set, but several nodes can only share the"
          + " PostgreSQL store: set STORE=postgres (store.type) on every node, or unset "
          + read.name("cluster.members") + " to run one node on SQLite.");
    }
    String host = read.string(cluster, "host", "cluster.host", null);
    if (host != null && WILDCARD_HOSTS.contains(host)) {
      // Advertised to the other nodes as this node's address: a wildcard would send them to their own host.
      throw new ConfigException(read.name("cluster.host") + " is " + host + ", but it is the address the other nodes"
          + " reach this one at, not an interface to listen on: give this node's own address or host name.");
    }
    return new ClusterConfig(members, Optional.ofNullable(host), port,
        Duration.ofSeconds(read.integer(cluster, "ownerLeaseSeconds", "cluster.ownerLeaseSeconds",
            (int) ClusterConfig.DEFAULT_OWNER_LEASE.toSeconds(), 3, 600)));
  }

  /** A comma-separated string (as TRUSTED_PROXIES gives it) or, in the file, a JSON array of strings. */
  private static TrustedProxies trustedProxies(ConfigReader read, JsonObject http) {
    return TrustedProxies.parse(read.name("http.trustedProxies"),
        read.commaList(http, "trustedProxies", "http.trustedProxies", "addresses"));
  }

  /** A JSON array of hosts, or one comma-separated string (as BITRIX_REDIRECT_HOSTS gives it). */
  private static RedirectHosts redirectHosts(ConfigReader read, JsonObject bitrix) {
    String list = read.commaList(bitrix, "redirectHosts", "bitrix.redirectHosts", "host names");
    return list == null ? RedirectHosts.NONE : RedirectHosts.parse(read.name("bitrix.redirectHosts"), List.of(list));
  }

  private static DeliveryConfig delivery(ConfigReader read, JsonObject json) {
    JsonObject delivery = read.object(json, "delivery", "delivery");
    read.rejectUnknown(delivery, "delivery", Set.of("storeSynchronous", "retryBaseMs", "retryMaxSeconds",
        "maxAgeHours", "repeatWindowSeconds", "leaseSeconds", "sweepIntervalMs", "sweepBatch", "retentionDays",
        "stallSeconds"));
    DeliveryConfig defaults = DeliveryConfig.defaults();
    String synchronous = read.string(delivery, "storeSynchronous", "delivery.storeSynchronous",
        defaults.storeSynchronous()).toUpperCase(java.util.Locale.ROOT);
    if (!Set.of("FULL", "NORMAL", "OFF").contains(synchronous)) {
      throw new ConfigException(read.name("delivery.storeSynchronous") + " must be FULL, NORMAL or OFF, got \""
          + synchronous + "\".");
    }
    return new DeliveryConfig(
        synchronous,
        Duration.ofMillis(read.integer(delivery, "retryBaseMs", "delivery.retryBaseMs",
            (int) defaults.retryBase().toMillis(), 10, 3_600_000)),
        Duration.ofSeconds(read.integer(delivery, "retryMaxSeconds", "delivery.retryMaxSeconds",
            (int) defaults.retryMax().toSeconds(), 1, 86_400)),
        Duration.ofHours(read.integer(delivery, "maxAgeHours", "delivery.maxAgeHours",
            (int) defaults.maxAge().toHours(), 1, 24 * 365)),
        Duration.ofSeconds(read.integer(delivery, "repeatWindowSeconds", "delivery.repeatWindowSeconds",
            (int) defaults.repeatWindow().toSeconds(), 0, 86_400)),
        Duration.ofSeconds(read.integer(delivery, "leaseSeconds", "delivery.leaseSeconds",
            (int) defaults.lease().toSeconds(), 5, 3600)),
        Duration.ofMillis(read.integer(delivery, "sweepIntervalMs", "delivery.sweepIntervalMs",
            (int) defaults.sweepInterval().toMillis(), 50, 60_000)),
        read.integer(delivery, "sweepBatch", "delivery.sweepBatch", defaults.sweepBatch(), 1, 5000),
        read.integer(delivery, "retentionDays", "delivery.retentionDays", defaults.retentionDays(), 1, 3650),
        Duration.ofSeconds(read.integer(delivery, "stallSeconds", "delivery.stallSeconds",
            (int) defaults.stallAfter().toSeconds(), 10, 86_400)));
  }

  private static BitrixLimits limits(ConfigReader read, JsonObject bitrix) {
    String plan = read.string(bitrix, "plan", "bitrix.plan", "standard").toLowerCase(java.util.Locale.ROOT);
    BitrixLimits preset = switch (plan) {
      case "standard" -> BitrixLimits.standard();
      case "enterprise" -> BitrixLimits.enterprise();
      default -> throw new ConfigException(read.name("bitrix.plan") + " must be standard or enterprise, got \""
          + plan + "\".");
    };
    Object value = bitrix.getValue("ratePerSecond");
    double ratePerSecond = preset.ratePerSecond();
    if (value != null && !(value instanceof String text && text.isBlank())) {
      try {
        ratePerSecond = value instanceof Number n ? n.doubleValue() : Double.parseDouble(value.toString().trim());
      } catch (NumberFormatException e) {
        ratePerSecond = -1;
      }
      if (!(ratePerSecond >= 0.1 && ratePerSecond <= 1000)) {
        throw new ConfigException(read.name("bitrix.ratePerSecond") + " must be a number of requests per second"
            + " from 0.1 to 1000, got " + ConfigReader.quote(value) + ".");
      }
    }
    return new BitrixLimits(
        read.integer(bitrix, "burst", "bitrix.burst", preset.burst(), 1, 10_000),
        ratePerSecond,
        read.integer(bitrix, "operatingLimitSeconds", "bitrix.operatingLimitSeconds",
            (int) preset.operatingLimitSeconds(), 10, 6000),
        read.integer(bitrix, "batchSize", "bitrix.batchSize", preset.batchSize(), 1, 50));
  }

  /** {@code metrics.enabled} (METRICS_ENABLED, default true) and {@code metrics.port} (METRICS_PORT). */
  private static MetricsConfig metrics(ConfigReader read, JsonObject json, HttpConfig http) {
    JsonObject metrics = read.object(json, "metrics", "metrics");
    read.rejectUnknown(metrics, "metrics", Set.of("enabled", "port"));
    boolean enabled = read.bool(metrics, "enabled", "metrics.enabled", true);
    if (metrics.getValue("port") == null || metrics.getValue("port") instanceof String s && s.isBlank()) {
      return enabled ? MetricsConfig.onMainPort() : MetricsConfig.disabled();
    }
    int port = read.integer(metrics, "port", "metrics.port", 0, 1, 65535);
    if (port == http.port()) {
      throw new ConfigException(read.name("metrics.port") + " is " + port + ", the webhook port (HTTP_PORT): give"
          + " the metrics another port, or unset it to serve /metrics on the webhook port behind ADMIN_TOKEN.");
    }
    return enabled ? MetricsConfig.onPort(port) : MetricsConfig.disabled();
  }

  private static AdminConfig admin(ConfigReader read, JsonObject json) {
    JsonObject admin = read.object(json, "admin", "admin");
    read.rejectUnknown(admin, "admin", Set.of("token"));
    String token = read.string(admin, "token", "admin.token", null);
    if (token != null && token.length() < 16) {
      throw new ConfigException(read.name("admin.token") + " must be at least 16 characters long.");
    }
    return new AdminConfig(token);
  }

  private static Map<String, IntegrationConfig> integrations(ConfigReader read, JsonObject json) {
    JsonObject all = read.object(json, "integrations", "integrations");
    if (all.isEmpty()) {
      all.put(DEFAULT_INTEGRATION, new JsonObject());
    }
    Map<String, IntegrationConfig> integrations = new LinkedHashMap<>();
    for (String name : all.fieldNames()) {
      String path = "integrations." + name;
      if (!INTEGRATION_NAME.matcher(name).matches()) {
        throw new ConfigException("Integration name '" + name + "' must be 1-64 lower-case letters, digits, '-' or"
            + " '_' (it is part of the webhook URL).");
      }
      JsonObject integration = read.object(all, name, path);
      read.rejectUnknown(integration, path, Set.of("secret", "portal", "mapping", "alerts", "repeat",
          "repeatLookupDays", "target"));

      String secret = read.string(integration, "secret", path + ".secret", null);
      if (secret != null && !SECRET.matcher(secret).matches()) {
        throw new ConfigException(read.name(path + ".secret") + " must be 16 to 256 letters, digits, '-', '_', '.'"
            + " or '~' (it is part of the webhook URL).");
      }

      JsonObject portalJson = read.object(integration, "portal", path + ".portal");
      read.rejectUnknown(portalJson, path + ".portal", Set.of("webhookUrl", "oauth"));
      String url = read.string(portalJson, "webhookUrl", path + ".portal.webhookUrl", null);
      Optional<PortalConfig> portal = url == null ? Optional.empty()
          : Optional.of(PortalConfig.parse(read.name(path + ".portal.webhookUrl"), url));
      Optional<PortalConfig> oauth = oauth(read, portalJson, path + ".portal.oauth");
      if (oauth.isPresent() && portal.isPresent()) {
        throw new ConfigException(read.name(path + ".portal.webhookUrl") + " and " + read.name(path
            + ".portal.oauth.portalUrl") + " are both set; a portal is reached either through a webhook or through"
            + " an OAuth application, so set only one of them.");
      }
      portal = oauth.isPresent() ? oauth : portal;

      JsonObject mappingJson = read.object(integration, "mapping", path + ".mapping");
      if (mappingJson.getValue("assignedById") instanceof String) {
        // Checked here so that a bad BITRIX_ASSIGNED_BY_ID is reported under the variable's own name.
        mappingJson.put("assignedById", read.integer(mappingJson, "assignedById", path + ".mapping.assignedById",
            1, 1, Integer.MAX_VALUE));
      }
      MappingConfig mapping = MappingConfig.fromJson(mappingJson, path + ".mapping");
      integrations.put(name, new IntegrationConfig(name, secret, portal, mapping,
          repeat(read, integration, path), target(read, integration, path)));
    }
    return integrations;
  }

  /** What an integration creates ({@code target}): lead (default) or deal. */
  private static CrmTarget target(ConfigReader read, JsonObject integration, String path) {
    String name = read.string(integration, "target", path + ".target", "lead");
    CrmTarget target = CrmTarget.named(name);
    if (target == null) {
      throw new ConfigException(read.name(path + ".target") + " must be lead or deal, got '" + name + "'.");
    }
    return target;
  }

  /** An integration's repeat-subscriber policy ({@code repeat}) and match window ({@code repeatLookupDays}). */
  private static RepeatConfig repeat(ConfigReader read, JsonObject integration, String path) {
    String name = read.string(integration, "repeat", path + ".repeat", "new");
    RepeatConfig.Policy policy = RepeatConfig.Policy.named(name);
    if (policy == null) {
      throw new ConfigException(read.name(path + ".repeat") + " must be one of new, comment, update or link, got '"
          + name + "'.");
    }
    int days = read.integer(integration, "repeatLookupDays", path + ".repeatLookupDays",
        RepeatConfig.DEFAULT_LOOKUP_DAYS, 0, 36500);
    return new RepeatConfig(policy, days);
  }

  /**
   * An integration's OAuth application ({@code portal.oauth}), absent when the key is missing or empty. The tokens
   * are optional: they can come later through the admin API.
   */
  private static Optional<PortalConfig> oauth(ConfigReader read, JsonObject portalJson, String path) {
    JsonObject json = read.object(portalJson, "oauth", path);
    read.rejectUnknown(json, path, Set.of("portalUrl", "clientId", "clientSecret", "accessToken", "refreshToken",
        "refreshUrl"));
    if (json.isEmpty()) {
      return Optional.empty();
    }
    String portalUrl = required(read, json, "portalUrl", path);
    String clientId = required(read, json, "clientId", path);
    String clientSecret = required(read, json, "clientSecret", path);
    String refreshUrl = read.string(json, "refreshUrl", path + ".refreshUrl", OAuthApp.DEFAULT_REFRESH_URL);
    OAuthApp app = new OAuthApp(
        OAuthApp.portalUrl(read.name(path + ".portalUrl"), portalUrl),
        clientId,
        clientSecret,
        read.string(json, "accessToken", path + ".accessToken", null),
        read.string(json, "refreshToken", path + ".refreshToken", null),
        OAuthApp.refreshUrl(read.name(path + ".refreshUrl"), refreshUrl));
    return Optional.of(PortalConfig.forApp(app));
  }

  private static String required(ConfigReader read, JsonObject json, String key, String path) {
    String value = read.string(json, key, path + "." + key, null);
    if (value == null) {
      throw new ConfigException(read.name(path + "." + key) + " is missing; an OAuth application needs portalUrl,"
          + " clientId and clientSecret.");
    }
    return value;
  }

  private static String size(ConfigReader read, JsonObject json, String key, String path, String fallback) {
    String value = read.string(json, key, path, fallback);
    // Checked with logback's own parser, the one that will read it: a size accepted here is never refused later.
    boolean valid;
    try {
      valid = ch.qos.logback.core.util.FileSize.valueOf(value).getSize() > 0;
    } catch (IllegalArgumentException e) {
      valid = false;
    }
    if (!valid) {
      throw new ConfigException(read.name(path) + " must be a size such as 50MB or 1GB, got \"" + value + "\".");
    }
    return value;
  }

  private static boolean given(Object envValue) {
    return envValue != null && !envValue.toString().isBlank();
  }

  /** Whether the file sets the key at {@code dottedPath} (e.g. "http.port"). */
  private static boolean inFile(JsonObject json, String dottedPath) {
    Object node = json;
    for (String part : dottedPath.split("\\.")) {
      if (!(node instanceof JsonObject object)) {
        return false;
      }
      node = object.getValue(part);
    }
    return node != null;
  }

    private static void put(JsonObject json, String dottedPath, String value) {
    List<String> parts = List.of(dottedPath.split("\\."));
    JsonObject node = json;
    for (String part : parts.subList(0, parts.size() - 1)) {
      Object child = node.getValue(part);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        node.put(part, child);
      }
      node = (JsonObject) child;
    }
    node.put(parts.get(parts.size() - 1), value);
  }
}
