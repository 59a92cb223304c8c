package io.leadrelay.e2e;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.leadrelay.config.AlertChannels;
import io.leadrelay.config.AlertConfig;
import io.leadrelay.config.DeliveryConfig;
import io.leadrelay.config.SmtpConfig;
import io.leadrelay.testing.FakeAlertReceiver;
import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Alerts as people receive them: on a fake incoming webhook, a fake Telegram Bot API and a real SMTP server
 * (GreenMail), each event once, its end once, a storm of DEAD deliveries as a digest, and no secret anywhere.
 */
@ExtendWith(VertxExtension.class)
class AlertsTest {

  private static final String SMTP_USER = "relay-user";
  private static final String SMTP_PASSWORD = "smtp-pass-x-4242";
  private static final String SUBSCRIBER = "Иван Петров ivan@mail";
  /** How often the conditions are looked at in these tests. */
  private static final Duration CHECK = Duration.ofMillis(200);

  @TempDir
  Path dir;

  private GreenMail smtp;

  @BeforeEach
  void startSmtp() {
    smtp = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
    smtp.setUser("relay@example.com", SMTP_USER, SMTP_PASSWORD);
    smtp.start();
  }

  @AfterEach
  void stopSmtp() {
    smtp.stop();
  }

  /**
   * The outage of issue 9: the portal answers 503 to every lead while webhooks keep coming. /health turns DEGRADED
   * (still 200) and says why; every channel is told once that leads are not delivered and once that they wait too
   * long; when the portal is back, /health is UP and every channel is told once that each is over. The first
   * Telegram call is throttled (429, retry_after): the message still arrives, once, and error.log says so.
   */
  @Test
  void anOutageIsAlertedOnceOnEveryChannelAndItsEndOnce(Vertx vertx, VertxTestContext ctx) {
    DeliveryConfig stallAfterASecond = stallAfter(Duration.ofSeconds(1));
    FakeAlertReceiver[] receiver = new FakeAlertReceiver[1];
    FakeBitrixPortal[] portal = new FakeBitrixPortal[1];
    TestRelay[] relay = new TestRelay[1];
    Future.all(FakeAlertReceiver.start(vertx), FakeBitrixPortal.start(vertx)).compose(started -> {
      receiver[0] = started.resultAt(0);
      portal[0] = started.resultAt(1);
      receiver[0].throttleTelegram(1);
      portal[0].faults(() -> Reply.html(503));
      return TestRelay.startWithAlerts(vertx, dir, portal[0].webhookUrl(), stallAfterASecond,
          alerts(receiver[0], Duration.ofSeconds(2), 3, Duration.ofMinutes(15)));
    }).compose(started -> {
      relay[0] = started;
      return post(relay[0], 3);
    }).compose(posted -> relay[0].pollAsync(() -> health(relay[0], h -> conditions(h).size() == 2)))
        .compose(degraded -> {
          ctx.verify(() -> {
            assertEquals("DEGRADED", degraded.getString("status"));
            assertEquals(List.of("PORTAL_NOT_DELIVERING", "BACKLOG_OLD"), conditions(degraded));
            JsonObject notDelivering = degraded.getJsonArray("conditions").getJsonObject(0);
            assertEquals("default", notDelivering.getString("integration"));
            assertTrue(notDelivering.getString("reason").startsWith("No lead has reached Bitrix24 portal "),
                notDelivering.encode());
          });
          return all(relay[0], receiver[0], list -> list.size() == 2);
        })
        .compose(raised -> {
          ctx.verify(() -> {
            for (List<String> channel : raised) {
              assertEquals(List.of("[LeadRelay] Leads are not reaching Bitrix24 (integration default)",
                  "[LeadRelay] Leads waiting too long (integration default)"),
                  subjects(channel).stream().sorted().toList());
            }
            assertEquals(3, receiver[0].telegramCalls(), "one throttled call, then each message once");
          });
          portal[0].faults(() -> null);
          return relay[0].pollAsync(() -> health(relay[0], h -> "UP".equals(h.getString("status"))));
        })
        .compose(up -> all(relay[0], receiver[0], list -> list.size() == 4))
        .compose(recovered -> {
          ctx.verify(() -> {
            for (List<String> channel : recovered) {
              assertEquals(List.of("[LeadRelay] Resolved: Leads are not reaching Bitrix24 (integration default)",
                  "[LeadRelay] Resolved: Leads waiting too long (integration default)"),
                  subjects(channel.subList(2, 4)).stream().sorted().toList());
            }
          });
          return checksPass(vertx, 10);
        })
        .compose(quiet -> {
          ctx.verify(() -> {
            List<List<String>> channels = received(receiver[0]);
            channels.forEach(channel -> assertEquals(4, channel.size(), "nothing more while all is well: " + channel));
            assertEquals(3, portal[0].leads().size());
            assertSecretsAbsent(relay[0], portal[0], channels);
            assertTrue(relay[0].lines("error").stream()
                .anyMatch(line -> "alert_not_sent".equals(line.getString("error"))
                && line.getString("reason").contains("Telegram chat " + FakeAlertReceiver.CHAT_ID)
                && line.getString("reason").contains("HTTP 429")), "the throttled send is in error.log");
          });
          return Future.succeededFuture();
        })
        // On failure, what each channel got and error.log, to tell a missing alert from an extra one.
        .onFailure(e -> System.out.println("Alerts received: " + (receiver[0] == null ? null : received(receiver[0]))
            + "\nerror.log: " + (relay[0] == null ? null : relay[0].lines("error"))))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** A portal refusing the webhook code is paused: one alert, with the error's code and no subscriber data. */
  @Test
  void aPausedPortalIsAlertedOnceWithoutSubscriberDataAndItsResumeOnce(Vertx vertx, VertxTestContext ctx) {
    FakeAlertReceiver[] receiver = new FakeAlertReceiver[1];
    FakeBitrixPortal[] portal = new FakeBitrixPortal[1];
    TestRelay[] relay = new TestRelay[1];
    Future.all(FakeAlertReceiver.start(vertx), FakeBitrixPortal.start(vertx)).compose(started -> {
      receiver[0] = started.resultAt(0);
      portal[0] = started.resultAt(1);
      portal[0].faults(() -> Reply.error(401, "NO_AUTH_FOUND", "Wrong authorization data for " + SUBSCRIBER));
      return TestRelay.startWithAlerts(vertx, dir, portal[0].webhookUrl(), TestRelay.FAST,
          webhookOnly(receiver[0], 3, Duration.ofMinutes(15)));
    }).compose(started -> {
      relay[0] = started;
      return post(relay[0], 1);
    }).compose(posted -> relay[0].poll(() -> receiver[0].webhookTexts().isEmpty() ? null
            : receiver[0].webhookTexts()))
        .compose(texts -> {
          ctx.verify(() -> {
            String text = texts.get(0);
            assertTrue(text.startsWith("[LeadRelay] Bitrix24 portal paused (integration default)\n"), text);
            assertTrue(text.contains("(HTTP 401 NO_AUTH_FOUND)"), text);
            assertFalse(text.contains("ivan@mail"), text);
          });
          portal[0].faults(() -> null);
          return relay[0].poll(() -> receiver[0].webhookTexts().size() >= 2 ? receiver[0].webhookTexts() : null);
        })
        .compose(texts -> checksPass(vertx, 10).map(texts))
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          List<String> all = receiver[0].webhookTexts();
          assertEquals(List.of("[LeadRelay] Bitrix24 portal paused (integration default)",
              "[LeadRelay] Resolved: Bitrix24 portal paused (integration default)"), subjects(all));
          assertSecretsAbsent(relay[0], portal[0], List.of(all));
          ctx.completeNow();
        })));
  }

  /**
   * Twelve leads rejected at once: the first two DEAD deliveries are alerted one by one, each with its id and a link
   * to the admin page, and the other ten in one digest once its period is over. Nothing quotes the subscriber.
   */
  @Test
  void aStormOfDeadDeliveriesIsTwoAlertsAndOneDigest(Vertx vertx, VertxTestContext ctx) {
    FakeAlertReceiver[] receiver = new FakeAlertReceiver[1];
    FakeBitrixPortal[] portal = new FakeBitrixPortal[1];
    TestRelay[] relay = new TestRelay[1];
    List<String> ids = new ArrayList<>();
    Future.all(FakeAlertReceiver.start(vertx), FakeBitrixPortal.start(vertx)).compose(started -> {
      receiver[0] = started.resultAt(0);
      portal[0] = started.resultAt(1);
      // Every add is rejected, in a batch or alone, also the second try with the checked fields in COMMENTS.
      for (int i = 0; i < 24; i++) {
        portal[0].enqueue(Reply.error(400, "", "Неверный формат e-mail: " + SUBSCRIBER));
      }
      return TestRelay.startWithAlerts(vertx, dir, portal[0].webhookUrl(), TestRelay.FAST,
          webhookOnly(receiver[0], 2, Duration.ofSeconds(3)));
    }).compose(started -> {
      relay[0] = started;
      return post(relay[0], 12).onSuccess(ids::addAll);
    }).compose(posted -> relay[0].awaitLines("error", lines -> lines.stream()
            .filter(line -> String.valueOf(line.getString("next")).startsWith("dead")).count() == 12))
        .compose(dead -> relay[0].poll(() -> receiver[0].webhookTexts().size() >= 3 ? receiver[0].webhookTexts()
            : null))
        .compose(texts -> checksPass(vertx, 5).map(texts))
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          List<String> all = receiver[0].webhookTexts();
          assertEquals(3, all.size(), all.toString());
          for (String text : all.subList(0, 2)) {
            String id = text.substring("[LeadRelay] Delivery ".length(), text.indexOf(" is DEAD"));
            assertTrue(ids.contains(id), text);
            assertTrue(text.endsWith("Why in full, and Replay once fixed: https://relay.example.com/admin/#/deliveries/"
                + id), text);
            // "(HTTP 400)" when the lead went alone; inside a batch Bitrix24 answers 200 and refuses the command.
            assertTrue(text.contains("Bitrix24 rejected this lead"), text);
          }
          assertEquals("[LeadRelay] 10 more DEAD deliveries (integration default)", subjects(all).get(2));
          assertSecretsAbsent(relay[0], portal[0], List.of(all));
          all.forEach(text -> assertFalse(text.contains("ivan@mail") || text.contains("Иван"), text));
          ctx.completeNow();
        })));
  }

  private AlertConfig alerts(FakeAlertReceiver receiver, Duration backlogAge, int deadAtOnce, Duration digest) {
    return new AlertConfig(new AlertChannels(URI.create(receiver.webhookUrl()), FakeAlertReceiver.BOT_TOKEN,
        FakeAlertReceiver.CHAT_ID, URI.create(receiver.telegramApiUrl()), List.of("ops@example.com")),
        java.util.Map.of(),
        new SmtpConfig("127.0.0.1", smtp.getSmtp().getPort(), SMTP_USER, SMTP_PASSWORD, "relay@example.com"),
        backlogAge, 100, deadAtOnce, digest, CHECK, "https://relay.example.com");
  }

  private AlertConfig webhookOnly(FakeAlertReceiver receiver, int deadAtOnce, Duration digest) {
    return new AlertConfig(new AlertChannels(URI.create(receiver.webhookUrl()), null, null, null, List.of()),
        java.util.Map.of(), new SmtpConfig(null, 587, null, null, null), Duration.ofHours(1), 100, deadAtOnce, digest,
        CHECK, "https://relay.example.com");
  }

  private static DeliveryConfig stallAfter(Duration stall) {
    DeliveryConfig fast = TestRelay.FAST;
    return new DeliveryConfig(fast.storeSynchronous(), fast.retryBase(), fast.retryMax(), fast.maxAge(),
        fast.repeatWindow(), fast.lease(), fast.sweepInterval(), fast.sweepBatch(), fast.retentionDays(), stall);
  }

  /** Posts {@code count} different webhooks; their delivery ids. */
  private static Future<List<String>> post(TestRelay relay, int count) {
    List<Future<String>> posted = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      posted.add(relay.postJson("{\"name\":\"" + SUBSCRIBER + " " + i + "\",\"phone\":\"+7999000000" + i + "\"}")
          .map(response -> response.bodyAsJsonObject().getString("id")));
    }
    return Future.all(posted).map(all -> all.<String>list());
  }

  /** Each channel's messages (webhook, Telegram, e-mail as "subject\nbody") once every one has as many as wanted. */
  private Future<List<List<String>>> all(TestRelay relay, FakeAlertReceiver receiver, Predicate<List<String>> wanted) {
    return relay.poll(() -> {
      List<List<String>> channels = received(receiver);
      return channels.stream().allMatch(wanted) ? channels : null;
    });
  }

  private List<List<String>> received(FakeAlertReceiver receiver) {
    List<String> mails = new ArrayList<>();
    for (MimeMessage message : smtp.getReceivedMessages()) {
      try {
        assertEquals("ops@example.com", message.getAllRecipients()[0].toString());
        mails.add(message.getSubject() + "\n" + GreenMailUtil.getBody(message));
      } catch (MessagingException e) {
        throw new IllegalStateException(e);
      }
    }
    return List.of(receiver.webhookTexts(), receiver.telegramTexts(), mails);
  }

  /** No secret in what any channel received, in any log file, or in /health. */
  private void assertSecretsAbsent(TestRelay relay, FakeBitrixPortal portal, List<List<String>> channels) {
    List<String> secrets = List.of(portal.code(), FakeAlertReceiver.BOT_TOKEN, "test-hook-key-x", SMTP_PASSWORD,
        TestRelay.SECRET);
    String everything = channels.stream().flatMap(List::stream).collect(Collectors.joining("\n"))
        + relay.allFileContents();
    for (String secret : secrets) {
      assertFalse(everything.contains(secret), "a secret reached an alert or a log: " + secret);
    }
  }

  private static List<String> subjects(List<String> messages) {
    return messages.stream().map(text -> text.substring(0, text.indexOf('\n'))).toList();
  }

  private static List<String> conditions(JsonObject health) {
    return health.getJsonArray("conditions").stream().map(c -> ((JsonObject) c).getString("condition")).toList();
  }

  /**
   * Lets {@code checks} more condition checks pass: the only way to see that nothing more is sent is to give it the
   * chance to be.
   */
  private static Future<Void> checksPass(Vertx vertx, int checks) {
    Promise<Void> passed = Promise.promise();
    vertx.setTimer(CHECK.toMillis() * checks, id -> passed.complete());
    return passed.future();
  }

  private static Future<JsonObject> health(TestRelay relay, Predicate<JsonObject> wanted) {
    return relay.client().get(relay.port(), "127.0.0.1", "/health").send().map(response -> {
      if (response.statusCode() != 200) {
        throw new AssertionError("/health answered " + response.statusCode() + ": " + response.bodyAsString());
      }
      return wanted.test(response.bodyAsJsonObject()) ? response.bodyAsJsonObject() : null;
    });
  }
}
