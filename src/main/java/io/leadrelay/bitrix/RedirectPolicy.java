package io.leadrelay.bitrix;

import io.leadrelay.config.RedirectHosts;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Whether a portal's redirect may be followed. A renamed Bitrix24 cloud portal answers 302 to its new name, and
 * following it keeps leads flowing; but whoever can answer for the portal's address (a hijacked DNS name, a proxy, a
 * self-hosted server gone wrong) could otherwise point the relay anywhere, and it would send every lead there — and in
 * OAuth mode the access token. So a redirect is followed only
 * <ul>
 *   <li>without a downgrade: https stays https (http → https is fine), and</li>
 *   <li>to the configured portal's own host, a host in Bitrix24's own cloud domains, or a host the operator allowed
 *       ({@code BITRIX_REDIRECT_HOSTS}).</li>
 * </ul>
 * Pure: no I/O.
 */
final class RedirectPolicy {

  /**
   * Bitrix24's cloud portal zones: the domains its cloud portals live under ({@code <name>.bitrix24.<zone>}), from
   * Bitrix24's own map of portal zones (Bitrix\Disk\Document\OnlyOffice\Editor\CustomizationBuilder: com, in, eu, de,
   * es, com.br, pl, it, fr, cn, jp, vn, com.tr, id, ru, ua, by, kz) plus bitrix24.uk.
   */
  static final List<String> CLOUD_DOMAINS = List.of(
      "bitrix24.ru", "bitrix24.by", "bitrix24.kz", "bitrix24.ua",
      "bitrix24.com", "bitrix24.eu", "bitrix24.de", "bitrix24.es", "bitrix24.fr", "bitrix24.it", "bitrix24.pl",
      "bitrix24.uk", "bitrix24.in", "bitrix24.jp", "bitrix24.cn", "bitrix24.vn", "bitrix24.id",
      "bitrix24.com.br", "bitrix24.com.tr");

  private final RedirectHosts allowed;

  RedirectPolicy(RedirectHosts allowed) {
    this.allowed = allowed;
  }

  /**
   * Null if the redirect from {@code from} to {@code to} may be followed for the portal configured at
   * {@code configured}; otherwise one sentence saying why not and what would allow it. Only scheme and host appear in
   * it (a webhook URL's path holds its secret code).
   */
  String refusal(URI configured, URI from, URI to) {
    String scheme = lower(to.getScheme());
    String host = lower(to.getHost());
    String target = scheme + "://" + host;
    boolean secure = "https".equals(lower(from.getScheme())) || "https".equals(lower(configured.getScheme()));
    if (!scheme.equals("https") && !(scheme.equals("http") && !secure)) {
      return "The portal redirects to " + target + ", a downgrade from https: not followed, since the webhook code,"
          + " tokens and leads would travel unencrypted. Check the portal, then correct its configured URL.";
    }
    if (host.equals(lower(configured.getHost())) || cloud(host) || allowed.allows(host)) {
      return null;
    }
    return "The portal redirects to " + target + ", which is neither the configured portal nor Bitrix24's cloud:"
        + " not followed, so no lead or token goes there. If that host is yours, allow it with"
        + " BITRIX_REDIRECT_HOSTS=" + host + " (bitrix.redirectHosts) or configure its URL directly.";
  }

  private static boolean cloud(String host) {
    for (String domain : CLOUD_DOMAINS) {
      if (host.endsWith("." + domain)) {
        return true;
      }
    }
    return false;
  }

  private static String lower(String text) {
    return text == null ? "" : text.toLowerCase(Locale.ROOT);
  }
}
