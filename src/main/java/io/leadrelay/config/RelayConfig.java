package io.leadrelay.config;

import java.nio.file.Path;
import java.util.Map;

/** The whole configuration, parsed and checked once at start-up. */
public record RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix,
                          BitrixLimits limits, DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                          StoreConfig store, ClusterConfig cluster, AlertConfig alerts, MetricsConfig metrics) {

  /** Without alert channels (conditions still show on /health) and without metrics: what tests of other parts run
   * with (the relay's own start-up reads ALERT_* and METRICS_* instead). */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                     StoreConfig store, ClusterConfig cluster) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, store, cluster, AlertConfig.none(),
        MetricsConfig.disabled());
  }

  /** With alert channels, without metrics. */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                     StoreConfig store, ClusterConfig cluster, AlertConfig alerts) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, store, cluster, alerts,
        MetricsConfig.disabled());
  }

  /** With metrics, without alert channels. */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                     StoreConfig store, ClusterConfig cluster, MetricsConfig metrics) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, store, cluster, AlertConfig.none(),
        metrics);
  }

  /** The single-node configuration: the embedded SQLite store in DATA_DIR, no cluster. */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, StoreConfig.sqlite(), ClusterConfig.single());
  }

  /** One node on the given store. */
  public RelayConfig(HttpConfig http, Path dataDir, LogConfig logs, BitrixHttpConfig bitrix, BitrixLimits limits,
                     DeliveryConfig delivery, AdminConfig admin, Map<String, IntegrationConfig> integrations,
                     StoreConfig store) {
    this(http, dataDir, logs, bitrix, limits, delivery, admin, integrations, store, ClusterConfig.single());
  }

  /** The same configuration with this node's id on its store settings (a derived one, when none was set). */
  public RelayConfig withNodeId(String nodeId) {
    return new RelayConfig(http, dataDir, logs, bitrix, limits, delivery, admin, integrations,
        new StoreConfig(store.kind(), store.postgres(), nodeId), cluster, alerts, metrics);
  }

  /** The delivery store's file. */
  public Path databaseFile() {
    return dataDir.resolve("leadrelay.db");
  }
}
