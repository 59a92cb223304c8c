package io.leadrelay.store;

import io.leadrelay.testing.TestPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Generated webhook secrets in the shared store: the first node's secret is every node's, shown once. */
class PgWebhookSecretsTest {

  @RegisterExtension
  static final TestPostgres database = new TestPostgres();

  @Test
  void theFirstNodesSecretIsEveryNodesAndItsUrlIsShownOnce() {
    PgWebhookSecrets.Secret first = PgWebhookSecrets.resolve(database.settings(), "default", "first-node-secret-0123");
    PgWebhookSecrets.Secret second = PgWebhookSecrets.resolve(database.settings(), "default", "other-node-secret-0123");
    PgWebhookSecrets.announced(database.settings(), "default");
    PgWebhookSecrets.Secret afterRestart = PgWebhookSecrets.resolve(database.settings(), "default", "third-0123456789");

    assertEquals(new PgWebhookSecrets.Secret("first-node-secret-0123", true), first);
    assertEquals(new PgWebhookSecrets.Secret("first-node-secret-0123", true), second, "not shown yet by any node");
    assertEquals(new PgWebhookSecrets.Secret("first-node-secret-0123", false), afterRestart);
  }
}
