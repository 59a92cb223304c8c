package io.leadrelay.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Hosts the operator allows a Bitrix24 portal's redirect to lead to ({@code BITRIX_REDIRECT_HOSTS}), besides the
 * configured portal's own host and Bitrix24's cloud domains: a self-hosted portal that moved, say. An entry is a host
 * name or IP address ({@code crm.example.com}, {@code 10.0.0.5}) or {@code *.example.com} for any host under a
 * domain. No scheme, port or path: the scheme rule (no https → http) and the path are checked on their own.
 */
public record RedirectHosts(List<String> hosts) {

  public static final RedirectHosts NONE = new RedirectHosts(List.of());

  private static final Pattern HOST = Pattern.compile(
      "(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

  public RedirectHosts {
    hosts = List.copyOf(hosts);
  }

  /**
   * Parses a comma-separated list; {@code name} (the setting or environment variable) names the culprit in the one
   * sentence a bad entry stops start-up with.
   */
  public static RedirectHosts parse(String name, List<String> entries) {
    List<String> hosts = new ArrayList<>();
    for (String entry : entries) {
      for (String part : entry.split(",")) {
        String host = part.trim().toLowerCase(Locale.ROOT);
        if (host.isEmpty()) {
          continue;
        }
        if (!HOST.matcher(host).matches() || host.equals("*")) {
          throw new ConfigException(name + " must be a comma-separated list of host names (crm.example.com,"
              + " *.example.com or an IP address; no scheme, port or path), got \"" + part.trim() + "\".");
        }
        hosts.add(host);
      }
    }
    return new RedirectHosts(hosts);
  }

  /** Whether {@code host} is one of the allowed hosts or under an allowed {@code *.domain}. */
  public boolean allows(String host) {
    if (host == null) {
      return false;
    }
    String name = host.toLowerCase(Locale.ROOT);
    for (String allowed : hosts) {
      if (allowed.startsWith("*.") ? name.endsWith(allowed.substring(1)) : name.equals(allowed)) {
        return true;
      }
    }
    return false;
  }
}
