package io.leadrelay.config;

import io.leadrelay.store.PgSettings;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.SslMode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** STORE, DATABASE_URL and the PG* variables: what they select, and the one sentence when they are wrong. */
class StoreConfigTest {

  private static String error(JsonObject env) {
    return assertThrows(ConfigException.class, () -> ConfigParser.parse(env)).getMessage();
  }

  @Test
  void sqliteIsTheDefaultAndIgnoresPostgresVariables() {
    StoreConfig store = ConfigParser.parse(new JsonObject().put("PGHOST", "db").put("DATABASE_URL", "nonsense"))
        .store();

    assertEquals(StoreConfig.Kind.SQLITE, store.kind());
    assertTrue(store.postgresSettings().isEmpty());
  }

  @Test
  void databaseUrlSelectsTheServerAndLogin() {
    StoreConfig store = ConfigParser.parse(new JsonObject().put("STORE", "postgres")
        .put("DATABASE_URL", "postgresql://relay:p%40ss:w0rd@db.internal:6543/leads?sslmode=require")
        .put("STORE_POOL_SIZE", "12").put("NODE_ID", "node-2")).store();

    PgSettings pg = store.postgres();
    assertEquals(StoreConfig.Kind.POSTGRES, store.kind());
    assertEquals("db.internal", pg.host());
    assertEquals(6543, pg.port());
    assertEquals("leads", pg.database());
    assertEquals("relay", pg.user());
    assertEquals("p@ss:w0rd", pg.password());
    assertEquals(SslMode.REQUIRE, pg.sslMode());
    assertEquals(12, pg.poolSize());
    assertEquals("node-2", store.nodeId());
    assertEquals("postgresql://relay:***@db.internal:6543/leads", pg.describe());
    assertFalse(pg.toString().contains("w0rd"));
  }

  @Test
  void withoutAUrlThePgVariablesAreRead() {
    PgSettings pg = ConfigParser.parse(new JsonObject().put("STORE", "postgres").put("PGHOST", "10.0.0.5")
        .put("PGDATABASE", "relay").put("PGUSER", "app").put("PGPASSWORD", "secret")).store().postgres();

    assertEquals("postgresql://app:***@10.0.0.5:5432/relay", pg.describe());
    assertEquals("secret", pg.password());
  }

  @Test
  void mistakesAreOneSentenceWithThePasswordMasked() {
    assertEquals("STORE must be sqlite or postgres, got \"mysql\".", error(new JsonObject().put("STORE", "mysql")));
    assertEquals("STORE=postgres needs DATABASE_URL (postgresql://user:password@host:5432/database) or at least "
        + "PGHOST (with PGPORT, PGDATABASE, PGUSER, PGPASSWORD as needed).",
        error(new JsonObject().put("STORE", "postgres")));
    String wrongScheme = error(new JsonObject().put("STORE", "postgres")
        .put("DATABASE_URL", "mysql://app:hunter2@db/relay"));
    assertEquals("DATABASE_URL mysql://app:***@db/relay must start with postgresql://, as in "
        + "postgresql://user:password@host:5432/database.", wrongScheme);
    String noDatabase = error(new JsonObject().put("STORE", "postgres")
        .put("DATABASE_URL", "postgresql://app:hunter2@db:5432/"));
    assertTrue(noDatabase.startsWith("DATABASE_URL postgresql://app:***@db:5432/ names no database"), noDatabase);
    assertFalse(noDatabase.contains("hunter2"));
  }

  @Test
  void maskingCoversEveryShapeOfUrl() {
    assertEquals("postgresql://u:***@h/d", PgSettings.mask("postgresql://u:p@h/d"));
    assertEquals("postgresql://u@h/d", PgSettings.mask("postgresql://u@h/d"));
    assertEquals("postgres://:***@h/d", PgSettings.mask("postgres://:p@h/d"));
    assertEquals("postgresql://h/d", PgSettings.mask("postgresql://h/d"));
  }

  @Test
  void theEnvironmentFormDefaultsAsPsqlDoes() {
    PgSettings pg = PgSettings.fromEnvironment(Map.of("PGHOST", "localhost"), 3);

    assertEquals("postgresql://postgres@localhost:5432/postgres", pg.describe());
  }
}
