package io.leadrelay.e2e;

import io.leadrelay.testing.RelayProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real entry point in a child JVM, as a user starts it: configuration errors, the first-start URL, restart. */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StartupTest {

  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stopChildren() {
    started.forEach(Process::destroyForcibly);
  }

  private static final Pattern URL = Pattern.compile("http://localhost:(\\d+)/webhook/default/([A-Za-z0-9_-]{32})");
  private static final Pattern LISTENING = Pattern.compile("LeadRelay listening on .*:(\\d+) ");

  private static ProcessBuilder relayProcess(Path dir, Map<String, String> env) {
    ProcessBuilder builder = RelayProcess.builder(dir).redirectErrorStream(false);
    builder.environment().putAll(env);
    return builder;
  }

  @Test
  void anInvalidSettingStopsStartUpWithOneSentence(@TempDir Path dir) throws Exception {
    Process process = relayProcess(dir, Map.of("HTTP_PORT", "eighty")).start();
    started.add(process);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(2, process.exitValue());
    assertEquals("LeadRelay cannot start: HTTP_PORT must be a whole number from 0 to 65535, got \"eighty\".", stderr);
  }

  @Test
  void theFirstStartPrintsTheWebhookUrlOnceAndARestartKeepsIt(@TempDir Path dir) throws Exception {
    Map<String, String> env = Map.of("DATA_DIR", dir.resolve("data").toString(),
        "LOG_DIR", dir.resolve("logs").toString());

    List<String> first = runUntilListening(relayProcess(dir, env), true);
    Matcher url = URL.matcher(String.join("\n", first));
    assertTrue(url.find(), "the first start prints the webhook URL: " + first);
    String secret = url.group(2);
    assertEquals(secret, Files.readString(dir.resolve("data/secret-default.txt")).trim());

    List<String> second = runUntilListening(relayProcess(dir, env), false);
    assertFalse(String.join("\n", second).contains(secret), "a restart does not print the secret again");
    assertFalse(Files.exists(dir.resolve("logs/webhook.log")) && Files.readString(dir.resolve("logs/webhook.log"))
        .contains(secret));
  }

  @Test
  void aBusyPortIsNamedAndTheNextStartStillShowsTheNewUrl(@TempDir Path dir) throws Exception {
    Map<String, String> env = new java.util.HashMap<>(Map.of("DATA_DIR", dir.resolve("data").toString(),
        "LOG_DIR", dir.resolve("logs").toString()));
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      env.put("HTTP_PORT", String.valueOf(busy.getLocalPort()));
      Process process = relayProcess(dir, env).start();
      started.add(process);
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
      String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertEquals("LeadRelay cannot start: Port " + busy.getLocalPort() + " on 127.0.0.1 is already in use; stop"
          + " what listens there or set HTTP_PORT (http.port) to a free port.", stderr);
      assertEquals(2, process.exitValue());
      assertTrue(Files.exists(dir.resolve("data/secret-default.txt")), "the secret was made before the failure");
    }

    env.put("HTTP_PORT", "0");
    List<String> next = runUntilListening(relayProcess(dir, env), true);
    Matcher url = URL.matcher(String.join("\n", next));
    assertTrue(url.find(), "the URL nobody has seen yet is shown now: " + next);
    assertEquals(url.group(2), Files.readString(dir.resolve("data/secret-default.txt")).trim());

    List<String> third = runUntilListening(relayProcess(dir, env), false);
    assertFalse(URL.matcher(String.join("\n", third)).find(), "once shown, not again: " + third);
  }

  /** Starts the relay, reads its console until it listens, checks /health and the webhook, then stops it. */
  private List<String> runUntilListening(ProcessBuilder builder, boolean postWebhook) throws Exception {
    Process process = builder.start();
    started.add(process);
    List<String> lines = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      Integer port = null;
      String line;
      while (port == null && (line = out.readLine()) != null) {
        lines.add(line);
        Matcher m = LISTENING.matcher(line);
        if (m.find()) {
          port = Integer.parseInt(m.group(1));
        }
      }
      assertNotNull(port, "the relay says where it listens: " + lines);
      // The URL block follows the listening line.
      for (int i = 0; i < 6 && out.ready(); i++) {
        lines.add(out.readLine());
      }
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), health.body());
      if (postWebhook) {
        Matcher url = URL.matcher(String.join("\n", readMore(out, lines)));
        assertTrue(url.find(), String.join("\n", lines));
        HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create(url.group(0)
                .replace("localhost:" + url.group(1), "127.0.0.1:" + port)))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Тест\"}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, accepted.statusCode(), accepted.body());
      }
    } finally {
      process.destroy();
      process.waitFor(20, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
    return lines;
  }

  /** Reads until the URL block has been printed (it ends with a blank line after the URL). */
  private static List<String> readMore(BufferedReader out, List<String> lines) throws IOException {
    while (!URL.matcher(String.join("\n", lines)).find()) {
      String line = out.readLine();
      if (line == null) {
        break;
      }
      lines.add(line);
    }
    return lines;
  }
}
