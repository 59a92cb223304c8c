package io.leadrelay.config;

import io.leadrelay.mapping.MappingConfig;

import java.util.Optional;

/**
 * One BotHelp bot wired to one Bitrix24 portal: the secret in its webhook URL, the portal (absent: dry-run) and
 * how its payloads become leads.
 */
public record IntegrationConfig(String name, String secret, Optional<PortalConfig> portal, MappingConfig mapping,
                                RepeatConfig repeat, CrmTarget target) {

  /** An integration that creates leads. */
  public IntegrationConfig(String name, String secret, Optional<PortalConfig> portal, MappingConfig mapping,
                           RepeatConfig repeat) {
    this(name, secret, portal, mapping, repeat, CrmTarget.LEAD);
  }

  /** An integration that creates a new lead for every webhook. */
  public IntegrationConfig(String name, String secret, Optional<PortalConfig> portal, MappingConfig mapping) {
    this(name, secret, portal, mapping, RepeatConfig.NEW);
  }

  /** The same integration with {@code secret} (a generated one, when none was configured). */
  public IntegrationConfig withSecret(String secret) {
    return new IntegrationConfig(name, secret, portal, mapping, repeat, target);
  }

  public boolean dryRun() {
    return portal.isEmpty();
  }

  @Override
  public String toString() {
    return "IntegrationConfig[name=" + name + ", secret=***, portal=" + portal.map(PortalConfig::masked)
        .orElse("dry-run") + ", repeat="
        + repeat.policy().configName() + ", target=" + target.configName() + "]";
  }
}
