package io.leadrelay.config;

import java.time.Duration;
import java.util.Map;

/**
 * Who is told when leads stop flowing, and how often at most.
 *
 * @param channels      the deployment's channels: every alert goes there unless its integration has its own
 * @param byIntegration an integration's own channels ({@code integrations.<name>.alerts}), replacing the deployment's
 *                      for that integration's alerts
 * @param backlogAge    a waiting lead older than this is BACKLOG_OLD (also on /health)
 * @param maxPerHour    alerts sent per hour at most; past it one "N alerts suppressed" line at the hour's end
 * @param deadAtOnce    DEAD deliveries alerted one by one in a digest period; the rest are counted into a digest
 * @param digestEvery   how often a digest of further DEAD deliveries goes
 * @param checkEvery    how often the conditions are looked at
 * @param adminUrl      the admin page's public base URL for links in alerts (null: relative links)
 */
public record AlertConfig(AlertChannels channels, Map<String, AlertChannels> byIntegration, SmtpConfig smtp,
                          Duration backlogAge, int maxPerHour, int deadAtOnce, Duration digestEvery,
                          Duration checkEvery, String adminUrl) {

  public AlertConfig {
    byIntegration = Map.copyOf(byIntegration);
  }

  /** No channel: conditions still show on /health, nobody is sent anything. */
  public static AlertConfig none() {
    return new AlertConfig(AlertChannels.NONE, Map.of(), new SmtpConfig(null, SmtpConfig.DEFAULT_PORT, null, null,
        null), Duration.ofMinutes(30), 30, 3, Duration.ofMinutes(15), Duration.ofSeconds(10), null);
  }

  /** The channels for an integration's alerts (null: a node-wide alert, to the deployment's channels). */
  public AlertChannels channelsFor(String integration) {
    return integration == null ? channels : byIntegration.getOrDefault(integration, channels);
  }

  /** Whether any alert can go anywhere. */
  public boolean enabled() {
    return channels.any() || byIntegration.values().stream().anyMatch(AlertChannels::any);
  }
}
