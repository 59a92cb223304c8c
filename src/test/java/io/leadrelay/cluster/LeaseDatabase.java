package io.leadrelay.cluster;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.SqlClient;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A private PostgreSQL database for one test class, with the portal leases' migration applied, dropped afterwards:
 * other runs on the same server never see it. The server is {@code LEADRELAY_TEST_PG}
 * (default postgresql://postgres@127.0.0.1:5432/test); a missing server fails the test, never skips it.
 */
public final class LeaseDatabase implements AutoCloseable {

  private static final String SERVER = System.getenv().getOrDefault("LEADRELAY_TEST_PG",
      "postgresql://postgres@127.0.0.1:5432/test");

  private final Vertx vertx;
  private final String name = "leadrelay_cluster_" + UUID.randomUUID().toString().replace("-", "");

  public LeaseDatabase(Vertx vertx) throws Exception {
    this.vertx = vertx;
    onServer(admin -> "CREATE DATABASE " + name);
    SqlClient client = PgBuilder.client().connectingTo(options()).using(vertx).build();
    try {
      client.query(migration()).execute().await(10, TimeUnit.SECONDS);
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Where the test's nodes find the leases. */
  public PgConnectOptions options() {
    return PgConnectOptions.fromUri(SERVER).setDatabase(name);
  }

  SqlClient client() {
    return PgBuilder.client().connectingTo(options()).using(vertx).build();
  }

  @Override
  public void close() throws Exception {
    onServer(admin -> "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }

  private void onServer(java.util.function.Function<String, String> statement) throws Exception {
    SqlClient admin = PgBuilder.client().connectingTo(PgConnectOptions.fromUri(SERVER)).using(vertx).build();
    try {
      admin.query(statement.apply(name)).execute().await(20, TimeUnit.SECONDS);
    } finally {
      admin.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The migration as Flyway will run it: the same file, so the test proves the shipped SQL. */
  private static String migration() throws IOException {
    try (InputStream in = LeaseDatabase.class.getResourceAsStream("/db/postgres/V50__portal_leases.sql")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
