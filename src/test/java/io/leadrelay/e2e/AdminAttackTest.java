package io.leadrelay.e2e;

import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hostile operator's browser or a stranger against the admin API: every answer safe, every mistake a 4xx. */
class AdminAttackTest {

  @TempDir
  Path dir;

  private Vertx vertx;
  private TestRelay relay;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    FakeBitrixPortal portal = await(FakeBitrixPortal.start(vertx));
    relay = await(TestRelay.start(vertx, dir, portal.webhookUrl(), MappingConfig.defaults(), TestRelay.http(),
        TestRelay.FAST));
  }

  @AfterEach
  void stop() {
    await(vertx.close());
  }

  /**
   * Every admin answer, the JSON ones and refusals included, forbids sniffing, framing and scripts and is not kept
   * on the operator's disk: an error text echoing a hostile path, or a subscriber's value, is JSON and stays JSON.
   */
  @Test
  void everyAdminAnswerCarriesTheGuardHeaders() {
    String token = "Bearer " + TestRelay.ADMIN_TOKEN;
    Map<String, HttpResponse<Buffer>> answers = new LinkedHashMap<>();
    answers.put("no token", await(call(HttpMethod.GET, "/admin/deliveries", null, null, null)));
    answers.put("list", await(call(HttpMethod.GET, "/admin/deliveries", token, null, null)));
    answers.put("no such job", await(call(HttpMethod.GET, "/admin/jobs/%3Cscript%3E", token, null, null)));
    answers.put("no such path", await(call(HttpMethod.GET, "/admin/%3Cscript%3Ealert(1)%3C%2Fscript%3E", token,
        null, null)));
    answers.put("preview of an unknown integration", await(call(HttpMethod.POST,
        "/admin/preview/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", token, "application/json", Buffer.buffer("{}"))));
    answers.put("preview too big", await(call(HttpMethod.POST, "/admin/preview/default", token, "application/json",
        Buffer.buffer(new byte[5_000_000]))));
    answers.put("bad date", await(call(HttpMethod.GET, "/admin/deliveries?from=x", token, null, null)));
    answers.forEach((what, answer) -> {
      assertTrue(answer.statusCode() < 500, what + ": " + answer.statusCode());
      assertEquals("nosniff", answer.getHeader("X-Content-Type-Options"), what);
      assertEquals("DENY", answer.getHeader("X-Frame-Options"), what);
      assertTrue(String.valueOf(answer.getHeader("Content-Security-Policy")).contains("script-src 'self'"), what);
      assertEquals("no-store", answer.getHeader("Cache-Control"), what);
    });
    assertEquals(200, answers.get("list").statusCode());
    assertEquals(413, answers.get("preview too big").statusCode());
    HttpResponse<Buffer> page = await(call(HttpMethod.GET, "/admin/", null, null, null));
    assertEquals("no-cache", page.getHeader("Cache-Control"), "the page's own files may be revalidated");
  }

  /** A date Instant.parse takes but no store can hold is a 400 naming it, never a 503 "store unavailable". */
  @Test
  void aDateBeyondAnyStoreIsRefusedNotAStoreFailure() {
    String token = "Bearer " + TestRelay.ADMIN_TOKEN;
    HttpResponse<Buffer> search = await(call(HttpMethod.GET,
        "/admin/deliveries?from=%2B1000000000-01-01T00:00:00Z", token, null, null));
    HttpResponse<Buffer> replay = await(call(HttpMethod.POST,
        "/admin/deliveries/retry?state=DEAD&to=-1000000000-01-01T00:00:00Z", token, null, null));
    assertEquals(400, search.statusCode(), search.bodyAsString());
    assertTrue(search.bodyAsJsonObject().getString("message").contains("between 1970 and 9999"),
        search.bodyAsString());
    assertEquals(400, replay.statusCode(), replay.bodyAsString());
  }

  private Future<HttpResponse<Buffer>> call(HttpMethod method, String uri, String authorization, String type,
                                            Buffer body) {
    return relay.request(method, uri, authorization, type, body);
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
