package io.leadrelay.config;

import io.leadrelay.store.PrivateFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Webhook secrets the relay made up itself because none was configured. Each is kept in
 * {@code DATA_DIR/secret-<integration>.txt} (owner-only where the file system allows) so the URL pasted into
 * BotHelp keeps working across restarts. Blocking file I/O: call it off the event loop.
 */
public final class GeneratedSecrets {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A secret and whether it was created just now (then the user has yet to see its URL). */
  public record Secret(String value, Path file, boolean created) {
  }

  private GeneratedSecrets() {
  }

  public static Secret resolve(Path dataDir, String integration) {
    Path file = dataDir.resolve("secret-" + integration + ".txt");
    try {
      PrivateFiles.createDirectories(dataDir);
      if (Files.exists(file)) {
        // One written by an older release may be world-readable: the secret is the webhook URL's only guard.
        PrivateFiles.restrict(file);
        return new Secret(read(file), file, false);
      }
      String secret = newSecret();
      try {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(file);
      } catch (FileAlreadyExistsException e) {
        // Another relay sharing this data directory created it first: use theirs.
        return new Secret(read(file), file, false);
      }
      Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
      return new Secret(secret, file, true);
    } catch (IOException e) {
      throw new ConfigException("DATA_DIR " + dataDir.toAbsolutePath() + " is not writable, so no webhook secret"
          + " could be kept there (" + e.getClass().getSimpleName() + "); set BOTHELP_SECRET or fix the directory.");
    }
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
