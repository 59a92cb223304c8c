package io.leadrelay.config;

import io.leadrelay.store.PgWebhookSecrets;
import io.leadrelay.store.PrivateFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Webhook secrets the relay made up itself because none was configured. Each is kept in
 * {@code DATA_DIR/secret-<integration>.txt} (owner-only where the file system allows) so the URL pasted into
 * BotHelp keeps working across restarts. Until its URL has been shown, a marker file
 * {@code secret-<integration>.unannounced} sits beside it: a first start that fails after making the secret (a busy
 * port) leaves the marker, and the next start shows the URL. Blocking file I/O: call it off the event loop.
 */
public final class GeneratedSecrets {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A secret and whether its URL is yet to be shown to the user. */
  public record Secret(String value, Path file, boolean unannounced) {
  }

  private GeneratedSecrets() {
  }

  /**
   * The integration's generated secret where the relay keeps it: in DATA_DIR, or with a shared PostgreSQL store in
   * the database, so that every node accepts the same URL. Blocking: call it off the event loop.
   */
  public static Secret resolve(StoreConfig store, Path dataDir, String integration) {
    if (store.kind() == StoreConfig.Kind.POSTGRES) {
      PgWebhookSecrets.Secret shared = PgWebhookSecrets.resolve(store.postgres(), integration, newSecret());
      return new Secret(shared.value(), null, shared.unannounced());
    }
    return resolve(dataDir, integration);
  }

  /** Where {@link #resolve(StoreConfig, Path, String)} keeps the secret, for the user. */
  public static String whereKept(StoreConfig store, Path dataDir, String integration) {
    return store.kind() == StoreConfig.Kind.POSTGRES ? "the shared store " + store.postgres().describe()
        : dataDir.resolve("secret-" + integration + ".txt").toString();
  }

  /** The user has seen the URL: it is not shown again (by any node, with a shared store). */
  public static void announced(StoreConfig store, Path dataDir, String integration) {
    if (store.kind() == StoreConfig.Kind.POSTGRES) {
      PgWebhookSecrets.announced(store.postgres(), integration);
    } else {
      announced(dataDir, integration);
    }
  }

  public static Secret resolve(Path dataDir, String integration) {
    Path file = dataDir.resolve("secret-" + integration + ".txt");
    try {
      PrivateFiles.createDirectories(dataDir);
      Path marker = unannouncedMarker(dataDir, integration);
      if (Files.exists(file)) {
        // One written by an older release may be world-readable: the secret is the webhook URL's only guard.
        PrivateFiles.restrict(file);
        return new Secret(read(file), file, Files.exists(marker));
      }
      String secret = newSecret();
      // The marker first: a crash between the two leaves a marker without a secret, harmless on the next start.
      // Both owner-only like every file in DATA_DIR, whatever the umask.
      Files.deleteIfExists(marker);
      PrivateFiles.createFile(marker);
      try {
        PrivateFiles.createFile(file);
      } catch (FileAlreadyExistsException e) {
        // Another relay sharing this data directory created it first: use theirs.
        return new Secret(read(file), file, Files.exists(marker));
      }
      Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
      return new Secret(secret, file, true);
    } catch (IOException e) {
      throw new ConfigException("DATA_DIR " + dataDir.toAbsolutePath() + " is not writable, so no webhook secret"
          + " could be kept there (" + e.getClass().getSimpleName() + "); set BOTHELP_SECRET or fix the directory.");
    }
  }

  /** The user has seen the URL of this integration's generated secret: it is not shown again. */
  public static void announced(Path dataDir, String integration) {
    try {
      Files.deleteIfExists(unannouncedMarker(dataDir, integration));
    } catch (IOException e) {
      // Shown once more at the next start: better than never.
    }
  }

  private static Path unannouncedMarker(Path dataDir, String integration) {
    return dataDir.resolve("secret-" + integration + ".unannounced");
  }

  private static String read(Path file) throws IOException {
    String secret = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (secret.length() < 16) {
      throw new ConfigException(file.toAbsolutePath() + " does not hold a valid webhook secret; delete it to have a"
          + " new one generated.");
    }
    return secret;
  }

  private static String newSecret() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
