package io.leadrelay.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Bitrix24 portal reached through an inbound webhook URL {@code https://<portal>/rest/<user id>/<code>/}.
 * The code in the path is the whole authentication, so the URL is a secret: only {@link #masked()} may be shown.
 *
 * <p>Or, with {@code oauth} set, a portal called by an OAuth application: then {@code webhookUrl} is the plain REST
 * base {@code <portal>/rest/} (nothing secret in it) and every call carries an access token in its body.
 */
public record PortalConfig(URI webhookUrl, OAuthApp oauth) {

  private static final Pattern WEBHOOK_PATH = Pattern.compile("^(.*/rest/\\d+/)([^/]+)/?$");

  public PortalConfig {
    if (!webhookUrl.getPath().endsWith("/")) {
      webhookUrl = URI.create(webhookUrl + "/");
    }
  }

  /** A portal reached through an inbound webhook. */
  public PortalConfig(URI webhookUrl) {
    this(webhookUrl, null);
  }

  /** A portal called by an OAuth application, at the application's portal URL. */
  public static PortalConfig forApp(OAuthApp app) {
    return new PortalConfig(app.restBase(), app);
  }

  /** The same portal (and OAuth application, if any) at another REST base: a renamed portal's new address. */
  public PortalConfig at(URI restBase) {
    return new PortalConfig(restBase, oauth);
  }

  /**
   * Parses a webhook URL from configuration; {@code key} names the setting in the error message, which never
   * repeats the URL itself (it holds the secret code).
   */
  public static PortalConfig parse(String key, String url) {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new ConfigException(key + " is not a valid URL; expected https://<portal>/rest/<user id>/<code>/.");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new ConfigException(key + " must start with https:// (expected https://<portal>/rest/<user id>/<code>/).");
    }
    if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
        || uri.getPath() == null || !WEBHOOK_PATH.matcher(uri.getPath()).matches()) {
      throw new ConfigException(key + " must look like https://<portal>/rest/<user id>/<code>/ "
          + "(copy it from Bitrix24: Developer resources > Other > Inbound webhook).");
    }
    return new PortalConfig(uri);
  }

  /** The absolute URL of a REST method, e.g. {@code methodUrl("crm.lead.add")}. */
  public String methodUrl(String method) {
    return webhookUrl + method + ".json";
  }

  /** True for plain-http portals (tests, self-hosted portals behind a private network). */
  public boolean insecure() {
    if (oauth != null) {
      return "http".equalsIgnoreCase(webhookUrl.getScheme()) || oauth.insecure();
    }
    return "http".equalsIgnoreCase(webhookUrl.getScheme());
  }

  /** The URL with the secret code replaced by {@code ***}: safe for logs, health and error messages. */
  public String masked() {
    if (oauth != null) {
      // An OAuth portal's URL holds nothing secret: the token travels in the request body.
      String port = webhookUrl.getPort() == -1 ? "" : ":" + webhookUrl.getPort();
      return webhookUrl.getScheme() + "://" + webhookUrl.getHost() + port;
    }
    Matcher m = WEBHOOK_PATH.matcher(webhookUrl.getPath());
    String path = m.matches() ? m.group(1) + "***/" : "/***/";
    String port = webhookUrl.getPort() == -1 ? "" : ":" + webhookUrl.getPort();
    return webhookUrl.getScheme() + "://" + webhookUrl.getHost() + port + path;
  }

  /** The secret part of the URL, for masking it out of any text that might contain it. */
  public String secretCode() {
    if (oauth != null) {
      return "";
    }
    Matcher m = WEBHOOK_PATH.matcher(webhookUrl.getPath());
    return m.matches() ? m.group(2) : "";
  }

  @Override
  public String toString() {
    return masked();
  }
}
