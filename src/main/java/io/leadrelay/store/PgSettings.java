package io.leadrelay.store;

import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * Where the shared PostgreSQL store is and how to log in: from {@code DATABASE_URL}
 * ({@code postgresql://user:password@host:5432/db}) or the standard {@code PGHOST}, {@code PGPORT},
 * {@code PGDATABASE}, {@code PGUSER}, {@code PGPASSWORD}. The password never leaves this object in text meant for
 * people: {@link #toString()} and {@link #describe()} mask it, and every refusal names the URL masked.
 */
public record PgSettings(String host, int port, String database, String user, String password, SslMode sslMode,
                         int poolSize) {

  public static final int DEFAULT_POOL_SIZE = 8;

  public PgSettings {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, got " + poolSize);
    }
  }

  /**
   * Parses a {@code postgresql://} (or {@code postgres://}) URL; the only query parameter understood is
   * {@code sslmode} (disable, allow, prefer, require, verify-ca, verify-full). Throws an IllegalArgumentException
   * with one sentence naming the URL with its password masked.
   */
  public static PgSettings fromUrl(String url, int poolSize) {
    String shown = mask(url);
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("DATABASE_URL " + shown + " is not a URL; write it as "
          + "postgresql://user:password@host:5432/database.");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("postgresql") && !scheme.equals("postgres")) {
      throw new IllegalArgumentException("DATABASE_URL " + shown + " must start with postgresql://, as in "
          + "postgresql://user:password@host:5432/database.");
    }
    if (uri.getHost() == null || uri.getHost().isBlank()) {
      throw new IllegalArgumentException("DATABASE_URL " + shown + " names no host; write it as "
          + "postgresql://user:password@host:5432/database.");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceFirst("^/", "");
    if (path.isBlank() || path.contains("/")) {
      throw new IllegalArgumentException("DATABASE_URL " + shown + " names no database (or more than one path "
          + "part); write it as postgresql://user:password@host:5432/database.");
    }
    String user = null;
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : null;
    }
    SslMode ssl = SslMode.DISABLE;
    if (uri.getRawQuery() != null) {
      for (String parameter : uri.getRawQuery().split("&")) {
        String[] pair = parameter.split("=", 2);
        if (pair[0].equals("sslmode") && pair.length == 2) {
          ssl = sslMode(decode(pair[1]), "DATABASE_URL " + shown);
        } else {
          throw new IllegalArgumentException("DATABASE_URL " + shown + " has the parameter '" + pair[0]
              + "', but only sslmode is understood.");
        }
      }
    }
    return new PgSettings(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), decode(path),
        user == null || user.isEmpty() ? "postgres" : user, password, ssl, poolSize);
  }

  /** From the standard libpq variables; PGHOST is required, the others default as psql's do. */
  public static PgSettings fromEnvironment(Map<String, String> env, int poolSize) {
    String host = blankToNull(env.get("PGHOST"));
    if (host == null) {
      throw new IllegalArgumentException("STORE=postgres needs DATABASE_URL (postgresql://user:password@host:5432/"
          + "database) or at least PGHOST (with PGPORT, PGDATABASE, PGUSER, PGPASSWORD as needed).");
    }
    int port;
    try {
      port = Integer.parseInt(env.getOrDefault("PGPORT", "5432").trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("PGPORT must be a port number, got \"" + env.get("PGPORT") + "\".");
    }
    String user = blankToNull(env.get("PGUSER"));
    user = user == null ? "postgres" : user;
    String database = blankToNull(env.get("PGDATABASE"));
    String sslMode = blankToNull(env.get("PGSSLMODE"));
    return new PgSettings(host, port, database == null ? user : database, user, blankToNull(env.get("PGPASSWORD")),
        sslMode == null ? SslMode.DISABLE : sslMode(sslMode, "PGSSLMODE"), poolSize);
  }

  /** The same server and login with another database (tests make a private one per class). */
  public PgSettings withDatabase(String otherDatabase) {
    return new PgSettings(host, port, otherDatabase, user, password, sslMode, poolSize);
  }

  public PgConnectOptions connectOptions() {
    PgConnectOptions options = new PgConnectOptions()
        .setHost(host).setPort(port).setDatabase(database).setUser(user).setSslMode(sslMode)
        // Many statements in flight on one connection: a group of accepts costs one round trip, not one each.
        .setPipeliningLimit(256)
        .setCachePreparedStatements(true)
        // A 200 promises the webhook is on disk: commits wait for the WAL flush even where the server's default
        // (or the role's) says otherwise.
        .addProperty("synchronous_commit", "on")
        .addProperty("application_name", "leadrelay");
    if (password != null) {
      options.setPassword(password);
    }
    return options;
  }

  /** Flyway's one connection at start-up goes to the same server with the same login. */
  void configure(org.postgresql.ds.PGSimpleDataSource source) {
    source.setServerNames(new String[] {host});
    source.setPortNumbers(new int[] {port});
    source.setDatabaseName(database);
    source.setUser(user);
    if (password != null) {
      source.setPassword(password);
    }
    source.setSslMode(sslMode.value);
    source.setApplicationName("leadrelay");
  }

  /** The store as people may see it: {@code postgresql://user:***@host:5432/db}. */
  public String describe() {
    return "postgresql://" + user + (password == null ? "" : ":***") + "@" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "PgSettings[" + describe() + ", sslMode=" + sslMode + ", poolSize=" + poolSize + "]";
  }

  /** A URL fit for a log line or an error: the password replaced by {@code ***}. */
  public static String mask(String url) {
    if (url == null) {
      return "null";
    }
    return url.trim().replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*):[^@/?#]*@", "$1:***@");
  }

  private static SslMode sslMode(String value, String source) {
    try {
      return SslMode.of(value.trim().toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + " has sslmode \"" + value + "\"; use disable, allow, prefer, "
          + "require, verify-ca or verify-full.");
    }
  }

  private static String decode(String text) {
    return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text.trim();
  }
}
