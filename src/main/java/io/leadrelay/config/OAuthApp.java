package io.leadrelay.config;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * A Bitrix24 local application that calls a portal with OAuth tokens instead of an inbound webhook (CRest's other
 * mode). The client secret and the tokens are secrets: {@link #toString()} masks them, and the tokens here are only
 * the first pair from configuration, used when the delivery store holds none (the store's pair is newer: Bitrix24
 * rotates the refresh token on every refresh).
 *
 * @param portalUrl    {@code https://<portal>}, without a path
 * @param accessToken  optional: the first access token (null: it comes from a refresh or the admin API)
 * @param refreshToken optional: the first refresh token (null: it comes from the admin API)
 * @param refreshUrl   where refresh_token grants go; Bitrix24's own server unless configured (tests)
 */
public record OAuthApp(URI portalUrl, String clientId, String clientSecret, String accessToken, String refreshToken,
                       URI refreshUrl) {

  /** Bitrix24's OAuth server, used by every cloud portal. */
  public static final String DEFAULT_REFRESH_URL = "https://oauth.bitrix.info/oauth/token/";

  /** The portal URL as the delivery store keys its tokens: scheme, host and port, no trailing slash. */
  public String portalKey() {
    String port = portalUrl.getPort() == -1 ? "" : ":" + portalUrl.getPort();
    return portalUrl.getScheme().toLowerCase(java.util.Locale.ROOT) + "://"
        + portalUrl.getHost().toLowerCase(java.util.Locale.ROOT) + port;
  }

  /** The base that REST method names are appended to: {@code <portal>/rest/}. */
  public URI restBase() {
    return URI.create(portalKey() + "/rest/");
  }

  /** True when the portal or the OAuth server is plain http (tests, private networks). */
  public boolean insecure() {
    return "http".equalsIgnoreCase(portalUrl.getScheme()) || "http".equalsIgnoreCase(refreshUrl.getScheme());
  }

  /**
   * Parses a portal URL ({@code https://<portal>}, a trailing slash allowed) from configuration; {@code key} names
   * the setting in the one-sentence error.
   */
  public static URI portalUrl(String key, String url) {
    URI uri = uri(key, url, "https://<portal>.bitrix24.ru");
    String path = uri.getPath() == null ? "" : uri.getPath();
    if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getUserInfo() != null
        || !(path.isEmpty() || path.equals("/"))) {
      throw new ConfigException(key + " must be the portal's address only, like https://yourcompany.bitrix24.ru.");
    }
    return uri;
  }

  /** Parses the OAuth server's token URL (https or http, a host, no query: the grant's parameters are added). */
  public static URI refreshUrl(String key, String url) {
    URI uri = uri(key, url, DEFAULT_REFRESH_URL);
    if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new ConfigException(key + " must be a URL like " + DEFAULT_REFRESH_URL + " without a query string.");
    }
    return uri;
  }

  private static URI uri(String key, String url, String example) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new ConfigException(key + " is not a valid URL; expected " + example + ".");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new ConfigException(key + " must start with https:// (expected " + example + ").");
    }
    return uri;
  }

  @Override
  public String toString() {
    return "OAuthApp[portal=" + portalKey() + ", clientId=" + clientId + ", clientSecret=***, accessToken="
        + (accessToken == null ? "none" : "***") + ", refreshToken=" + (refreshToken == null ? "none" : "***")
        + ", refreshUrl=" + refreshUrl + "]";
  }
}
