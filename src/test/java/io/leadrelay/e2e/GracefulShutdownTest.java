package io.leadrelay.e2e;

import io.leadrelay.testing.RelayProcess;
import io.leadrelay.testing.FakeBitrixPortal;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SIGTERM while webhooks pour in, as a load balancer keeps sending during a rolling restart: the relay stops
 * accepting, answers what it has started, and ends with "LeadRelay stopped cleanly". No webhook is refused with a
 * 5xx, and every webhook answered 200 is in the store: after a restart each becomes exactly one lead.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GracefulShutdownTest {

  private static final String SECRET = "shutdown-secret-0123456789";
  private static final Pattern LISTENING = Pattern.compile("LeadRelay listening on [^:]+:(\\d+)");
  private static final int SENDERS = 8;

  @TempDir
  Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final List<Process> started = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** Delivery id → webhook number, for every 200. */
  private final Map<String, Integer> accepted = new ConcurrentHashMap<>();
  private final List<Integer> serverErrors = new CopyOnWriteArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private volatile boolean sending = true;

  @AfterEach
  void stop() throws Exception {
    sending = false;
    started.forEach(Process::destroyForcibly);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void sigtermUnderLoadLosesNoAcceptedWebhookAndRefusesNoneWithA5xx() throws Exception {
    FakeBitrixPortal portal = FakeBitrixPortal.start(vertx).await(10, TimeUnit.SECONDS);
    Path console = dir.resolve("console-1.out");
    Process relay = start(portal, console);
    int port = awaitListening(relay, console);

    CountDownLatch enough = new CountDownLatch(200);
    List<Thread> senders = new ArrayList<>();
    for (int i = 0; i < SENDERS; i++) {
      Thread sender = new Thread(() -> send(port, enough), "sender-" + i);
      sender.start();
      senders.add(sender);
    }
    assertTrue(enough.await(60, TimeUnit.SECONDS), "200 webhooks accepted before the SIGTERM");
    long sigterm = System.nanoTime();
    relay.destroy();
    assertTrue(relay.waitFor(60, TimeUnit.SECONDS), "the relay ends after SIGTERM");
    long stopMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm);
    sending = false;
    for (Thread sender : senders) {
      sender.join(10_000);
    }

    List<String> lines = Files.readAllLines(console, StandardCharsets.UTF_8);
    assertTrue(lines.get(lines.size() - 1).endsWith("LeadRelay stopped cleanly"), "last line: " + lines);
    assertEquals(List.of(), serverErrors, "no 5xx while the relay accepted");
    assertFalse(Files.exists(dir.resolve("data").resolve("leadrelay.running")), "a clean stop removes the marker");

    // Restarted, the relay delivers every webhook it answered 200: each was in the store.
    start(portal, dir.resolve("console-2.out"));
    Set<String> ids = Set.copyOf(accepted.keySet());
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Map<String, Long> leads = leadsByOrigin(portal);
    while (!leads.keySet().containsAll(ids) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      leads = leadsByOrigin(portal);
    }
    Map<String, Long> delivered = leads;
    Set<String> missing = ids.stream().filter(id -> !delivered.containsKey(id)).collect(Collectors.toSet());
    assertEquals(Set.of(), missing, "accepted webhooks without a lead");
    Map<String, Long> doubled = leads.entrySet().stream().filter(e -> e.getValue() > 1)
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    assertEquals(Map.of(), doubled, "leads created twice");
    System.out.printf("GracefulShutdownTest: %d webhooks accepted, %d leads, no 5xx, stopped %d ms after SIGTERM%n",
        ids.size(), delivered.size(), stopMs);
  }

  private static Map<String, Long> leadsByOrigin(FakeBitrixPortal portal) {
    return portal.leads().stream()
        .collect(Collectors.groupingBy(lead -> String.valueOf(lead.getValue("ORIGIN_ID")), Collectors.counting()));
  }

  /** Posts distinct webhooks until told to stop; a connection the relay no longer takes is not an answer. */
  private void send(int port, CountDownLatch enough) {
    URI uri = URI.create("http://127.0.0.1:" + port + "/webhook/default/" + SECRET);
    while (sending) {
      int n = next.getAndIncrement();
      String body = "{\"name\":\"Shutdown " + n + "\",\"phone\":\"+7999" + String.format("%07d", n) + "\"}";
      try {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() == 200) {
          accepted.put(new JsonObject(answer.body()).getString("id"), n);
          enough.countDown();
        } else if (answer.statusCode() >= 500) {
          serverErrors.add(answer.statusCode());
        }
      } catch (IOException e) {
        // Refused or closed: the relay has stopped accepting. Nothing was answered, so nothing was promised.
        pause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Process start(FakeBitrixPortal portal, Path console) throws IOException {
    ProcessBuilder builder = RelayProcess.builder(dir, "-Xmx256m")
        .redirectOutput(console.toFile())
        .redirectError(dir.resolve(console.getFileName() + ".err").toFile());
    Map<String, String> env = builder.environment();
    env.put("BOTHELP_SECRET", SECRET);
    env.put("BITRIX_WEBHOOK_URL", portal.webhookUrl());
    env.put("DATA_DIR", dir.resolve("data").toString());
    env.put("LOG_DIR", dir.resolve("logs").toString());
    env.put("SWEEP_INTERVAL_MS", "200");
    Process process = builder.start();
    started.add(process);
    return process;
  }

  private static int awaitListening(Process relay, Path console) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(console)) {
        Matcher listening = LISTENING.matcher(Files.readString(console, StandardCharsets.UTF_8));
        if (listening.find()) {
          return Integer.parseInt(listening.group(1));
        }
      }
      if (!relay.isAlive()) {
        break;
      }
      Thread.sleep(50);
    }
    return fail("the relay did not start: " + Files.readString(console, StandardCharsets.UTF_8));
  }
}
