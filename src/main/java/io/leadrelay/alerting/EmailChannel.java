package io.leadrelay.alerting;

import io.vertx.core.Future;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailMessage;

import java.util.List;

/** E-mail through the deployment's SMTP server: the alert's subject as the subject, its text as a plain body. */
final class EmailChannel implements AlertChannel {

  private final MailClient mail;
  private final String from;
  private final List<String> to;

  EmailChannel(MailClient mail, String from, List<String> to) {
    this.mail = mail;
    this.from = from;
    this.to = List.copyOf(to);
  }

  @Override
  public Future<Void> send(Alert alert) {
    MailMessage message = new MailMessage().setFrom(from).setTo(to).setSubject(alert.subject())
        .setText(alert.text() + "\n\n-- \nLeadRelay\n");
    return mail.sendMail(message).transform(sent -> sent.succeeded() ? Future.<Void>succeededFuture()
        : Future.failedFuture(new NotSent("the SMTP server refused or could not be reached ("
            + oneLine(sent.cause().getMessage()) + ")", null)));
  }

  /** SMTP replies name addresses and codes, not the password; kept to one line for error.log. */
  private static String oneLine(String text) {
    return text == null ? "no details" : text.replaceAll("[\\r\\n]+", " ").trim();
  }

  @Override
  public String describe() {
    return "e-mail to " + String.join(", ", to);
  }
}
