package io.leadrelay.config;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class ConfigLoaderTest {

  @Test
  void readsTheFileNamedByConfigPath(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"http\":{\"port\":9191},\"dataDir\":\"" + dir.resolve("data") + "\","
        + "\"integrations\":{\"shop\":{\"secret\":\"shop-secret-0123456789\"}}}");
    ConfigLoader.load(vertx, Map.of("CONFIG_PATH", file.toString())).onComplete(ctx.succeeding(loaded -> ctx.verify(() -> {
      assertEquals(9191, loaded.config().http().port());
      assertEquals("shop-secret-0123456789", loaded.config().integrations().get("shop").secret());
      assertTrue(loaded.newSecrets().isEmpty());
      ctx.completeNow();
    })));
  }

  @Test
  void aMissingConfigPathFileStopsStartUp(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    ConfigLoader.load(vertx, Map.of("CONFIG_PATH", dir.resolve("nope.json").toString()))
        .onComplete(ctx.failing(failure -> ctx.verify(() -> {
          assertInstanceOf(ConfigException.class, failure);
          assertTrue(failure.getMessage().startsWith("CONFIG_PATH is "), failure.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  void invalidJsonStopsStartUpNamingTheFile(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "{\"http\": {\"port\": 80,}");
    ConfigLoader.load(vertx, Map.of("CONFIG_PATH", file.toString())).onComplete(ctx.failing(failure -> ctx.verify(() -> {
      assertInstanceOf(ConfigException.class, failure);
      assertTrue(failure.getMessage().startsWith(file + " could not be read as a JSON object"), failure.getMessage());
      ctx.completeNow();
    })));
  }

  @Test
  void aGeneratedSecretAndItsMarkerAreOwnerOnly(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"dataDir\":\"" + dir.resolve("data") + "\"}");
    ConfigLoader.load(vertx, Map.of("CONFIG_PATH", file.toString())).onComplete(ctx.succeeding(loaded -> ctx.verify(() -> {
      for (String name : List.of("secret-default.txt", "secret-default.unannounced")) {
        assertEquals("rw-------", PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("data").resolve(name))), name);
      }
      ctx.completeNow();
    })));
  }

  @Test
  void aMissingSecretIsGeneratedOnceAndKept(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) throws Exception {
    Path file = dir.resolve("relay.json");
    Files.writeString(file, "{\"dataDir\":\"" + dir.resolve("data") + "\"}");
    Map<String, String> env = Map.of("CONFIG_PATH", file.toString());
    ConfigLoader.load(vertx, env).compose(first -> ConfigLoader.load(vertx, env).compose(notShownYet -> {
      ctx.verify(() -> {
        String secret = first.config().integrations().get("default").secret();
        assertEquals(1, first.newSecrets().size(), "the first start generates and announces a secret");
        assertTrue(secret.length() >= 32);
        assertEquals(secret + "\n", Files.readString(dir.resolve("data/secret-default.txt")));
        assertEquals(List.of(secret), notShownYet.newSecrets().stream().map(IntegrationConfig::secret).toList(),
            "a start that failed before showing the URL (a busy port) leaves it to the next one");
      });
      GeneratedSecrets.announced(dir.resolve("data"), "default");
      return ConfigLoader.load(vertx, env).map(second -> {
        ctx.verify(() -> {
          assertFalse(second.newSecrets().iterator().hasNext(), "once shown, a restart reuses it silently");
          assertEquals(first.config().integrations().get("default").secret(),
              second.config().integrations().get("default").secret());
        });
        return second;
      });
    })).onComplete(ctx.succeedingThenComplete());
  }
}
