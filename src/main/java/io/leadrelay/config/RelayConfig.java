package io.leadrelay.config;

import java.nio.file.Path;
import java.util.Map;

/** The whole configuration, parsed and checked once at start-up. */
public record RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix,
                          BitrixLimits limits, DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                          ClusterConfig cluster) {

  /** One node alone (no cluster settings). */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, ClusterConfig.single());
  }

  /** The delivery store's file. */
  public Path databaseFile() {
    return dataDir.resolve("leadrelay.db");
  }
}
