package io.leadrelay.config;

import java.nio.file.Path;
import java.util.Map;

/** The whole configuration, parsed and checked once at start-up. */
public record RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix,
                          BitrixLimits limits, DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                          ClusterConfig cluster) {

  /** The delivery store's file. */
  public Path databaseFile() {
    return dataDir.resolve("leadrelay.db");
  }
}
