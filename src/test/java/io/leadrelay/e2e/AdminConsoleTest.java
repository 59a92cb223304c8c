package io.leadrelay.e2e;

import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API's calls for the admin page, against a whole relay and the fake portal: the page's files and their
 * headers, search and filters, bulk replay as a job with progress, preview, the portals view and "Resume now".
 */
class AdminConsoleTest {

  /** Probes of a paused portal a minute apart: "Resume now" is what makes it try again at once. */
  private static final DeliveryConfig SLOW_PROBES = new DeliveryConfig("NORMAL", Duration.ofSeconds(4),
      Duration.ofMinutes(5), Duration.ofHours(72), Duration.ofMinutes(10), Duration.ofSeconds(5),
      Duration.ofMillis(100), 200, 30);
  private static final Reply REQUIRED = Reply.error(400, "", "Не заполнено обязательное поле \"Телефон\"");

  @TempDir
  Path dir;

  private Vertx vertx;
  private FakeBitrixPortal portal;
  private TestRelay relay;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    portal = await(FakeBitrixPortal.start(vertx));
  }

  @AfterEach
  void stop() {
    await(vertx.close());
  }

  private void startRelay(DeliveryConfig delivery) {
    relay = await(TestRelay.start(vertx, dir, portal.webhookUrl(), MappingConfig.defaults(), TestRelay.http(),
        delivery));
  }

  @Test
  void thePageIsServedWithoutATokenAndWithAStrictContentSecurityPolicy() {
    startRelay(TestRelay.FAST);
    HttpResponse<Buffer> page = await(call(HttpMethod.GET, "/admin/", null, null, null));
    HttpResponse<Buffer> script = await(call(HttpMethod.GET, "/admin/static/admin.js", null, null, null));
    HttpResponse<Buffer> bare = await(relay.client().get(relay.port(), "127.0.0.1", "/admin")
        .followRedirects(false).send());
    HttpResponse<Buffer> api = await(call(HttpMethod.GET, "/admin/deliveries", null, null, null));

    assertEquals(200, page.statusCode());
    assertTrue(page.getHeader("Content-Type").startsWith("text/html"), page.getHeader("Content-Type"));
    assertTrue(page.getHeader("Content-Type").toLowerCase().contains("utf-8"), page.getHeader("Content-Type"));
    String csp = page.getHeader("Content-Security-Policy");
    for (String directive : List.of("default-src 'self'", "script-src 'self'", "style-src 'self'",
        "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'")) {
      assertTrue(csp.contains(directive), csp);
    }
    assertEquals("nosniff", page.getHeader("X-Content-Type-Options"));
    String html = page.bodyAsString();
    assertTrue(html.contains("<script src=\"static/admin.js\" defer></script>"), "one script, from a file");
    assertFalse(html.replace("<script src=\"static/admin.js\" defer></script>", "").contains("<script"),
        "no inline script");
    assertFalse(html.contains("onclick") || html.contains("style="), "no inline handler or style");

    assertEquals(200, script.statusCode());
    assertTrue(script.getHeader("Content-Type").contains("javascript"), script.getHeader("Content-Type"));
    assertEquals(csp, script.getHeader("Content-Security-Policy"));
    assertFalse(script.bodyAsString().contains("innerHTML"), "values are rendered as text only");
    assertEquals(302, bare.statusCode());
    assertEquals("/admin/", bare.getHeader("Location"));
    assertEquals(401, api.statusCode(), "the page is open, the API is not");
  }

  @Test
  void searchFindsASubscriberAndAFilteredBulkReplayRunsAsAJobWithProgress() {
    startRelay(TestRelay.FAST);
    String ivan = deadDelivery("{\"name\":\"Иван\",\"phone\":\"+7 (999) 123-45-67\",\"email\":\"ivan@example.ru\"}");
    String olga = deadDelivery("{\"name\":\"Ольга\",\"phone\":\"89990000002\",\"email\":\"olga@example.ru\"}");
    String petr = deadDelivery("{\"name\":\"Пётр\",\"phone\":\"89990000003\",\"email\":\"petr@mail.test\"}");

    JsonObject byPhone = ok(admin(HttpMethod.GET, "/admin/deliveries?q=" + encode("8 999 123-45-67")));
    JsonObject byName = ok(admin(HttpMethod.GET, "/admin/deliveries?q=" + encode("ОЛЬГА") + "&state=DEAD"));
    JsonObject byId = ok(admin(HttpMethod.GET, "/admin/deliveries?q=" + petr));
    JsonObject none = ok(admin(HttpMethod.GET, "/admin/deliveries?q=ivan@example.ru&integration=other"));
    JsonObject window = ok(admin(HttpMethod.GET,
        "/admin/deliveries?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z"));
    HttpResponse<Buffer> badTime = await(admin(HttpMethod.GET, "/admin/deliveries?from=yesterday"));

    assertEquals(List.of(ivan), ids(byPhone));
    JsonObject row = byPhone.getJsonArray("deliveries").getJsonObject(0);
    assertEquals(new JsonObject().put("name", "Иван").put("phone", "+7 (999) 123-45-67").put("email",
        "ivan@example.ru"), row.getJsonObject("subscriber"));
    assertTrue(row.getString("lastError").contains("Телефон"), row.encode());
    assertEquals(List.of(olga), ids(byName));
    assertEquals(List.of(petr), ids(byId));
    assertEquals(List.of(), ids(none));
    assertEquals(List.of(), ids(window));
    assertEquals(400, badTime.statusCode());
    assertTrue(badTime.bodyAsJsonObject().getString("message").contains("ISO-8601"), badTime.bodyAsString());

    // Replay the two at example.ru: a job, watched until done; Пётр stays DEAD.
    HttpResponse<Buffer> started = await(admin(HttpMethod.POST, "/admin/deliveries/retry?state=DEAD&q=example.ru"));
    assertEquals(202, started.statusCode(), started.bodyAsString());
    JsonObject job = started.bodyAsJsonObject().getJsonObject("job");
    assertEquals("/admin/jobs/" + job.getString("id"), started.getHeader("Location"));
    assertEquals(2L, job.getLong("total"));
    JsonObject finished = await(relay.pollAsync(() -> admin(HttpMethod.GET, "/admin/jobs/" + job.getString("id"))
        .map(HttpResponse::bodyAsJsonObject).map(j -> "done".equals(j.getString("state")) ? j : null)));
    assertEquals(2L, finished.getLong("done"));
    assertEquals(2L, finished.getLong("replayed"));
    await(relay.pollAsync(() -> state(ivan).compose(a -> state(olga).map(b ->
        "DELIVERED".equals(a) && "DELIVERED".equals(b) ? true : null))));
    assertEquals("DEAD", await(state(petr)));
    assertEquals(2, portal.leads().size());
    JsonObject delivered = ok(admin(HttpMethod.GET, "/admin/deliveries/" + ivan));
    assertEquals(portal.portalUrl() + "/crm/lead/details/" + delivered.getLong("leadId") + "/",
        delivered.getString("leadUrl"));
    assertEquals(404, await(admin(HttpMethod.GET, "/admin/jobs/no-such-job")).statusCode());
    assertEquals(400, await(admin(HttpMethod.POST, "/admin/deliveries/retry?state=DELIVERED&q=x")).statusCode());
  }

  @Test
  void previewMapsJsonAndFormBodiesLikeTheWebhookAndRefusesBadOnes() {
    startRelay(TestRelay.FAST);
    String json = "{\"name\":\"Иван\",\"phone\":\"+79991234567\",\"Бюджет\":\"1.50\"}";
    JsonObject fromJson = ok(preview("default", "application/json", json));
    JsonObject fromForm = ok(preview("default", "application/x-www-form-urlencoded",
        "name=" + encode("Иван") + "&phone=" + encode("+79991234567") + "&" + encode("Бюджет") + "=1.50"));
    HttpResponse<Buffer> broken = await(preview("default", "application/json", "{\"name\":"));
    HttpResponse<Buffer> unknown = await(preview("nope", "application/json", json));
    HttpResponse<Buffer> noToken = await(call(HttpMethod.POST, "/admin/preview/default", null, "application/json",
        Buffer.buffer(json)));

    JsonObject fields = fromJson.getJsonObject("lead").getJsonObject("fields");
    assertEquals("Иван", fields.getString("NAME"));
    assertEquals("+79991234567", fields.getJsonArray("PHONE").getJsonObject(0).getString("VALUE"));
    assertEquals("PREVIEW", fields.getString("ORIGIN_ID"));
    assertTrue(fields.getString("COMMENTS").contains("Бюджет: 1.50"), fields.encode());
    assertEquals(fields, fromForm.getJsonObject("lead").getJsonObject("fields"), "a form body maps the same");
    assertNotNull(fromJson.getJsonObject("lead").getJsonObject("params"));
    assertEquals(400, broken.statusCode());
    assertFalse(broken.bodyAsJsonObject().getString("message").isBlank());
    assertEquals(404, unknown.statusCode());
    assertEquals(401, noToken.statusCode());
    assertTrue(portal.leads().isEmpty(), "a preview sends nothing");
    assertEquals(0, ok(admin(HttpMethod.GET, "/admin/deliveries")).getJsonArray("deliveries").size(),
        "and stores nothing");
  }

  @Test
  void aPausedPortalShowsWhyAndResumesNowOnRequest() {
    startRelay(SLOW_PROBES);
    portal.enqueue(Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data"));
    String id = ok(relay.postJson("{\"name\":\"Иван\",\"phone\":\"+79991234567\"}")).getString("id");
    JsonObject paused = await(relay.pollAsync(() -> admin(HttpMethod.GET, "/admin/portals")
        .map(HttpResponse::bodyAsJsonObject)
        .map(all -> all.getJsonArray("portals").getJsonObject(0))
        .map(p -> "paused".equals(p.getString("state")) ? p : null)));

    assertEquals(new JsonArray().add("default"), paused.getJsonArray("integrations"));
    assertTrue(paused.getString("reason").contains("NO_AUTH_FOUND"), paused.encode());
    assertEquals("this node", paused.getString("owner"));
    assertEquals(1L, paused.getLong("backlog"));
    assertNotNull(paused.getLong("oldestPendingAgeSeconds"));
    assertEquals(50, paused.getJsonObject("budget").getInteger("bucketSize"));
    assertFalse(paused.encode().contains(portal.code()), "never the webhook code");

    HttpResponse<Buffer> resumed = await(admin(HttpMethod.POST, "/admin/portals/default/resume"));
    assertEquals(200, resumed.statusCode(), resumed.bodyAsString());
    await(relay.pollAsync(() -> state(id).map(s -> "DELIVERED".equals(s) ? s : null)));
    JsonObject sending = ok(admin(HttpMethod.GET, "/admin/portals")).getJsonArray("portals").getJsonObject(0);
    assertEquals("active", sending.getString("state"));
    HttpResponse<Buffer> again = await(admin(HttpMethod.POST, "/admin/portals/default/resume"));
    assertEquals(409, again.statusCode(), "not paused: nothing to resume");
    assertEquals(404, await(admin(HttpMethod.POST, "/admin/portals/nope/resume")).statusCode());
  }

  private String deadDelivery(String json) {
    portal.enqueue(REQUIRED);
    String id = ok(relay.postJson(json)).getString("id");
    await(relay.pollAsync(() -> state(id).map(s -> "DEAD".equals(s) ? s : null)));
    return id;
  }

  private Future<String> state(String id) {
    return admin(HttpMethod.GET, "/admin/deliveries/" + id).map(r -> r.bodyAsJsonObject().getString("state"));
  }

  private Future<HttpResponse<Buffer>> preview(String integration, String type, String body) {
    return call(HttpMethod.POST, "/admin/preview/" + integration, "Bearer " + TestRelay.ADMIN_TOKEN, type,
        Buffer.buffer(body));
  }

  private Future<HttpResponse<Buffer>> admin(HttpMethod method, String uri) {
    return call(method, uri, "Bearer " + TestRelay.ADMIN_TOKEN, null, null);
  }

  private Future<HttpResponse<Buffer>> call(HttpMethod method, String uri, String authorization, String type,
                                            Buffer body) {
    return relay.request(method, uri, authorization, type, body);
  }

  private static JsonObject ok(Future<HttpResponse<Buffer>> response) {
    HttpResponse<Buffer> answer = await(response);
    assertTrue(answer.statusCode() == 200, answer.statusCode() + " " + answer.bodyAsString());
    return answer.bodyAsJsonObject();
  }

  private static List<String> ids(JsonObject page) {
    return page.getJsonArray("deliveries").stream().map(row -> ((JsonObject) row).getString("id")).toList();
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
