package io.leadrelay.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.leadrelay.config.AdminConfig;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bug in a handler answers 500 and is logged with its cause, never swallowed. */
@ExtendWith(VertxExtension.class)
class InternalErrorTest {

  /** A store whose every call throws, as a bug would: nothing is caught before the router's error handler. */
  private static final DeliveryStore BROKEN = (DeliveryStore) Proxy.newProxyInstance(
      InternalErrorTest.class.getClassLoader(), new Class<?>[] {DeliveryStore.class}, (proxy, method, args) -> {
        throw new IllegalStateException("the store has a bug");
      });

  @Test
  void aFailingHandlerAnswers500AndLogsTheFailure(Vertx vertx, VertxTestContext ctx) {
    Logger log = (Logger) LoggerFactory.getLogger(HttpVerticle.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    log.addAppender(logged);
    AtomicInteger port = new AtomicInteger();
    Map<String, IntegrationConfig> integrations = Map.of("default", new IntegrationConfig("default",
        TestRelay.SECRET, Optional.empty(), MappingConfig.defaults()));
    vertx.deployVerticle(new HttpVerticle(TestRelay.http(), TestRelay.FAST, BROKEN, integrations,
            new AdminConfig(TestRelay.ADMIN_TOKEN), port::set))
        .compose(id -> WebClient.create(vertx).get(port.get(), "127.0.0.1", "/admin/deliveries")
            .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send())
        .onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
          log.detachAppender(logged);
          assertEquals(500, answer.statusCode());
          assertEquals("internal_error", answer.bodyAsJsonObject().getString("error"));
          ILoggingEvent event = logged.list.stream()
              .filter(e -> e.getFormattedMessage().equals("Failed to handle GET /admin/deliveries"))
              .findFirst().orElseThrow(() -> new AssertionError("not logged: " + logged.list));
          assertEquals("ERROR", event.getLevel().toString());
          assertEquals("the store has a bug", event.getThrowableProxy().getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  void theWebhookSecretNeverReachesTheLog() {
    assertEquals("/webhook/shop/***", HttpVerticle.pathWithoutSecret("/webhook/shop/s3cr3t-code"));
    assertEquals("/admin/deliveries", HttpVerticle.pathWithoutSecret("/admin/deliveries"));
    assertFalse(HttpVerticle.pathWithoutSecret("/webhook/shop/s3cr3t/more").contains("s3cr3t"));
    assertTrue(HttpVerticle.pathWithoutSecret("/webhook/").startsWith("/webhook/"));
  }
}
