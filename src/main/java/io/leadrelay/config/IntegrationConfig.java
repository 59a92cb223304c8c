package io.leadrelay.config;

import io.leadrelay.mapping.MappingConfig;

import java.util.Optional;

/**
 * One BotHelp bot wired to one Bitrix24 portal: the secret in its webhook URL, the portal (absent: dry-run) and
 * how its payloads become leads.
 */
public record IntegrationConfig(String name, String secret, Optional<PortalConfig> portal, MappingConfig mapping) {

  public boolean dryRun() {
    return portal.isEmpty();
  }

  @Override
  public String toString() {
    return "IntegrationConfig[name=" + name + ", secret=***, portal=" + portal.map(PortalConfig::masked)
        .orElse("dry-run") + "]";
  }
}
