package io.leadrelay.alerting;

import io.leadrelay.config.SmtpConfig;
import io.leadrelay.logging.SecretMasker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.StartTLSOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An SMTP server that refuses the login and echoes the command it refused, as some do ("535 ... AUTH PLAIN
 * AHJl..."): the channel's failure text, as it reaches error.log through the alert masker, carries no form of the
 * password.
 */
class EmailChannelTest {

  private static final String USER = "relay-user";
  private static final String PASSWORD = "smtp-pass-x-4242";

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aServerEchoingTheRefusedLoginLeavesNoFormOfThePasswordInTheFailure() throws Exception {
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      socket.write("220 smtp.example ESMTP\r\n");
      socket.handler(RecordParser.newDelimited("\r\n", line -> {
        String command = line.toString(StandardCharsets.UTF_8);
        if (command.startsWith("EHLO")) {
          socket.write("250-smtp.example\r\n250 AUTH PLAIN LOGIN\r\n");
        } else if (command.startsWith("QUIT")) {
          socket.write("221 bye\r\n").onComplete(v -> socket.close());
        } else {
          socket.write("535 5.7.8 refused: " + command + "\r\n");
        }
      }));
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    SmtpConfig smtp = new SmtpConfig("127.0.0.1", server.actualPort(), USER, PASSWORD, "relay@example.com");
    MailConfig config = new MailConfig().setHostname(smtp.host()).setPort(smtp.port())
        .setStarttls(StartTLSOptions.OPTIONAL).setKeepAlive(false)
        .setUsername(USER).setPassword(PASSWORD).setLogin(LoginOption.REQUIRED);
    EmailChannel channel = new EmailChannel(MailClient.create(vertx, config), smtp.from(), List.of("ops@example.com"));

    Throwable failure = channel.send(new Alert(null, "Outage", "Portal down"))
        .<Throwable>transform(sent -> Future.succeededFuture(sent.cause())).await(10, TimeUnit.SECONDS);
    String logged = new SecretMasker(AlertVerticle.smtpSecrets(smtp)).mask(failure.getMessage());

    assertTrue(logged.contains("535"), "the reason is kept: " + logged);
    Base64.Encoder base64 = Base64.getEncoder();
    for (String form : List.of(PASSWORD, base64.encodeToString(PASSWORD.getBytes(StandardCharsets.UTF_8)),
        base64.encodeToString(("\0" + USER + "\0" + PASSWORD).getBytes(StandardCharsets.UTF_8)))) {
      assertFalse(logged.contains(form), "error.log would show " + form + ": " + logged);
    }
    assertTrue(new String(Base64.getDecoder().decode("AHJlbGF5LXVzZXIAc210cC1wYXNzLXgtNDI0Mg=="),
        StandardCharsets.UTF_8).contains(PASSWORD), "the echoed form is the password");
  }
}
