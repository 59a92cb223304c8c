package io.leadrelay.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the configuration the documented way: {@code conf/config.json} (or {@code CONFIG_PATH}) through
 * vertx-config, the documented environment variables on top, then fills in generated secrets.
 */
public final class ConfigLoader {

  public static final String DEFAULT_PATH = "conf/config.json";

  /** The loaded configuration and the generated secrets whose URLs are yet to be shown. */
  public record Loaded(RelayConfig config, List<IntegrationConfig> newSecrets) {
  }

  private ConfigLoader() {
  }

  /** Reads and checks the configuration, then gives integrations without a secret a generated, kept one. */
  public static Future<Loaded> load(Vertx vertx, Map<String, String> env) {
    return read(vertx, env).compose(config -> vertx.executeBlocking(() -> withSecrets(config)));
  }

  /**
   * Reads and checks the configuration without writing anything: integrations without a configured secret keep a
   * null one. For commands, which must not create secrets in DATA_DIR. {@code env} names the file (CONFIG_PATH); the
   * documented variables themselves are read from the process environment by vertx-config.
   */
  public static Future<RelayConfig> read(Vertx vertx, Map<String, String> env) {
    String explicit = env.get("CONFIG_PATH");
    boolean chosen = explicit != null && !explicit.isBlank();
    String path = chosen ? explicit.trim() : DEFAULT_PATH;
    boolean exists = Files.isRegularFile(Path.of(path));
    if (!exists && chosen) {
      return Future.failedFuture(new ConfigException("CONFIG_PATH is " + path + ", but there is no such file."));
    }
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(-1).setIncludeDefaultStores(false);
    if (exists) {
      options.addStore(new ConfigStoreOptions().setType("file").setFormat("json")
          .setConfig(new JsonObject().put("path", path)));
    }
    options.addStore(new ConfigStoreOptions().setType("env").setConfig(new JsonObject()
        .put("raw-data", true)
        .put("keys", new JsonArray(new ArrayList<>(ConfigParser.ENV_KEYS.keySet())))));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
        .eventually(retriever::close)
        .recover(failure -> Future.failedFuture(new ConfigException(
            path + " could not be read as a JSON object: " + firstLine(failure.getMessage()) + ".")))
        .map(ConfigParser::parse);
  }

  /** Gives every integration without a configured secret a generated, persisted one. Blocking file I/O. */
  static Loaded withSecrets(RelayConfig config) {
    Map<String, IntegrationConfig> integrations = new LinkedHashMap<>();
    List<IntegrationConfig> created = new ArrayList<>();
    for (IntegrationConfig integration : config.integrations().values()) {
      IntegrationConfig resolved = integration;
      if (integration.secret() == null) {
        GeneratedSecrets.Secret secret = GeneratedSecrets.resolve(config.store(), config.dataDir(),
            integration.name());
        resolved = integration.withSecret(secret.value());
        if (secret.unannounced()) {
          created.add(resolved);
        }
      }
      integrations.put(resolved.name(), resolved);
    }
    RelayConfig withSecrets = new RelayConfig(config.http(), config.dataDir(), config.logs(), config.bitrix(),
        config.limits(), config.delivery(), config.admin(), Collections.unmodifiableMap(integrations),
        config.store(), config.cluster());
    return new Loaded(withSecrets, created);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    int newline = message.indexOf('\n');
    return newline >= 0 ? message.substring(0, newline) : message;
  }
}
