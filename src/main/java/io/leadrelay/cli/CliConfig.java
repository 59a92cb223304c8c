package io.leadrelay.cli;

import io.leadrelay.config.ConfigException;
import io.leadrelay.config.ConfigLoader;
import io.leadrelay.config.ConfigParser;
import io.leadrelay.config.RelayConfig;
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
import java.util.Map;

/**
 * The relay's configuration as {@link ConfigLoader} reads it (the same file, the same environment variables, the
 * same checks), but without its last step: generating and saving webhook secrets. A command must not write into
 * DATA_DIR: pointed at the wrong directory it would leave a secret there, and at the right one before the relay's
 * first start it would take from the relay the moment it prints the new webhook URL.
 */
final class CliConfig {

  private CliConfig() {
  }

  /** Integrations without a configured secret keep a null one: commands never need it. */
  static Future<RelayConfig> read(Vertx vertx, Map<String, String> env) {
    String explicit = env.get("CONFIG_PATH");
    boolean chosen = explicit != null && !explicit.isBlank();
    String path = chosen ? explicit.trim() : ConfigLoader.DEFAULT_PATH;
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

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    int newline = message.indexOf('\n');
    return newline >= 0 ? message.substring(0, newline) : message;
  }
}
