package io.leadrelay.e2e;

import io.leadrelay.testing.RelayProcess;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real relay in a child JVM with a small heap (-Xmx64m) against a portal whose answer never ends: with the
 * default answer cap (10 MiB) the heap is never run out, the relay keeps answering /health and the lead still
 * arrives exactly once (looked up after the cut-off answer).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SmallHeapTest {

  private static final Pattern LISTENING = Pattern.compile("LeadRelay listening on .*:(\\d+) ");
  private static final String SECRET = "small-heap-secret-0123456789";

  @Test
  void anEndlessPortalAnswerDoesNotRunASmallHeapOut(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    Process relay = null;
    try {
      FakeBitrixPortal portal = await(FakeBitrixPortal.start(vertx));
      portal.enqueue(Reply.createThenHuge());
      Path console = dir.resolve("console.txt");
      ProcessBuilder builder = RelayProcess.builder(dir, "-Xmx64m")
          .redirectErrorStream(true).redirectOutput(console.toFile());
      builder.environment().put("DATA_DIR", dir.resolve("data").toString());
      builder.environment().put("LOG_DIR", dir.resolve("logs").toString());
      builder.environment().put("BOTHELP_SECRET", SECRET);
      builder.environment().put("BITRIX_WEBHOOK_URL", portal.webhookUrl());
      builder.environment().put("RETRY_BASE_MS", "50");
      relay = builder.start();

      int port = waitForPort(console, relay);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/webhook/default/" + SECRET))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Огромный ответ\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, accepted.statusCode(), accepted.body());

      Path success = dir.resolve("logs/success.log");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!foundByLookUp(success)) {
        assertTrue(relay.isAlive(), "the relay died: " + Files.readString(console));
        assertTrue(System.nanoTime() < deadline, "no delivery within 60 s: " + Files.readString(console));
        Thread.sleep(100); // polling a child process's log file: there is no future to await
      }
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), health.body());
      assertEquals(1, portal.leads().size(), "exactly one lead");
      assertTrue(portal.hugeBytesSent() < 64L * 1024 * 1024, "cut off near the cap: " + portal.hugeBytesSent());
      String out = Files.readString(console, StandardCharsets.UTF_8);
      assertTrue(!out.contains("OutOfMemoryError"), out);
    } finally {
      if (relay != null) {
        relay.destroyForcibly();
      }
      await(vertx.close());
    }
  }

  /** Whether success.log has the lead, found by the look-up after the cut-off answer (not created twice). */
  private static boolean foundByLookUp(Path success) throws Exception {
    if (!Files.exists(success)) {
      return false;
    }
    return Files.readAllLines(success, StandardCharsets.UTF_8).stream().filter(line -> !line.isBlank())
        .map(io.vertx.core.json.JsonObject::new).anyMatch(line -> line.getBoolean("found", false));
  }

  private static int waitForPort(Path console, Process relay) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      String out = Files.exists(console) ? Files.readString(console, StandardCharsets.UTF_8) : "";
      Matcher m = LISTENING.matcher(out);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      assertTrue(relay.isAlive() && System.nanoTime() < deadline, "the relay did not start: " + out);
      Thread.sleep(50); // polling a child process's console file
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
