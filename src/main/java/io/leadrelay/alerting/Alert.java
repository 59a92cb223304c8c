package io.leadrelay.alerting;

/**
 * One message for the people responsible, in English and plain words. It never holds a secret or subscriber data:
 * at most a delivery id, error classes and codes, counts and times.
 *
 * @param integration whose channels it goes to; null: the deployment's
 * @param subject     one line (e-mail subject, first line of a chat message)
 * @param text        the rest: what happened, since when, what to look at
 */
public record Alert(String integration, String subject, String text) {

  /** Subject and text as one chat message. */
  public String message() {
    return subject + "\n" + text;
  }
}
