package io.leadrelay.store;

import io.leadrelay.http.PayloadParser;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The embedded delivery store: one SQLite file in WAL mode, written by one thread that group-commits whatever the
 * event loops asked for meanwhile (see {@link GroupCommitWriter}). Every future completes on the caller's context
 * after the change is committed with the configured {@code synchronous} level (FULL by default: an accepted
 * webhook survives a power cut). Reads go through the same writer so they see every committed change in order.
 */
public final class SqliteDeliveryStore implements DeliveryStore {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteDeliveryStore.class);

  /** The levels of {@code PRAGMA synchronous} a user may choose; FULL is the one that keeps "accepted" durable. */
  public static final Set<String> SYNCHRONOUS_MODES = Set.of("FULL", "NORMAL", "OFF");

  /** How long a statement waits for another process (a backup, the sqlite3 shell) to release the file. */
  static final int BUSY_TIMEOUT_MILLIS = 5_000;

  private static final String COLUMNS = "id, integration, received_at, remote_address, payload, state, attempts, "
      + "uncertain, first_failed_at, next_attempt_at, lease_until, lead_id, last_error, last_fields, updated_at, "
      + "delivered_at";

  /** The record view adds the attempts made: one per history row, refusals before execution included. */
  private static final String RECORD_COLUMNS = COLUMNS + ", (SELECT COUNT(*) FROM attempts_log "
      + "WHERE attempts_log.delivery_id = deliveries.id) AS attempts_made";

  /** The start of the reason a quarantined delivery is DEAD with. */
  public static final String UNREADABLE = "stored payload cannot be read: ";

  /**
   * Replays DEAD or PENDING rows. A row still leased may be in flight right now; releasing its lease lets it be
   * claimed again, so it is marked uncertain and the next attempt looks the lead up before adding it.
   */
  private static final String RETRY = "UPDATE deliveries SET state = 'PENDING', next_attempt_at = ?, "
      + "uncertain = CASE WHEN lease_until IS NOT NULL THEN 1 ELSE uncertain END, "
      + "lease_until = NULL, first_failed_at = NULL, updated_at = ? WHERE state IN ('DEAD', 'PENDING')";

  private final GroupCommitWriter writer;
  private final StoreHealth health;

  private SqliteDeliveryStore(Vertx vertx, Connection connection, Path file) {
    this.health = StoreHealth.watching(file);
    this.writer = new GroupCommitWriter(vertx, connection, "leadrelay-store", GroupCommitWriter.DEFAULT_MAX_BATCH,
        health);
  }

  /**
   * The relay's claim on DATA_DIR is confirmed before every write: its lock file deleted by hand would otherwise let
   * a second relay start on this store. Blocking (file checks) only on the writer thread.
   */
  public void heldBy(DataDirectory directory) {
    health.heldBy(directory);
  }

  /**
   * Opens (creating it and its directories if needed) the store at {@code dbFile} and brings its schema up to date.
   * {@code synchronous} is FULL, NORMAL or OFF (any case). The future fails with an IllegalArgumentException for
   * another mode, and with a StoreRefusal naming the file and the reason when the file cannot be used.
   */
  public static Future<SqliteDeliveryStore> open(Vertx vertx, Path dbFile, String synchronous) {
    String mode = synchronous == null ? "" : synchronous.trim().toUpperCase(Locale.ROOT);
    if (!SYNCHRONOUS_MODES.contains(mode)) {
      return Future.failedFuture(new IllegalArgumentException(
          "The store's synchronous mode must be FULL, NORMAL or OFF, got '" + synchronous + "'."));
    }
    Path file = dbFile.toAbsolutePath().normalize();
    return vertx.executeBlocking(() -> connect(file, mode), false)
        .map(connection -> new SqliteDeliveryStore(vertx, connection, file));
  }

  private static Connection connect(Path file, String synchronous) {
    Path directory = file.getParent();
    try {
      PrivateFiles.createDirectories(directory);
    } catch (IOException e) {
      throw cannotOpen(file, "its directory cannot be created (" + e.getClass().getSimpleName() + ")", e);
    }
    StoreIntegrity.checkFilesBeforeOpen(file);
    if (Files.isDirectory(file)) {
      throw cannotOpen(file, "it is a directory", null);
    }
    if (!Files.isWritable(directory)) {
      throw cannotOpen(file, "its directory is not writable", null);
    }
    if (Files.exists(file) && !Files.isWritable(file)) {
      throw cannotOpen(file, "the file is not writable", null);
    }
    Connection connection;
    try {
      if (!Files.exists(file)) {
        // Created here, 0600, rather than by SQLite with the umask's mode: its -wal and -shm files copy this mode.
        PrivateFiles.createFile(file);
      }
      SqliteNative.extractUnder(directory);
      connection = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new Properties());
      SqliteNative.restrictCopies(directory);
    } catch (IOException | SQLException e) {
      throw cannotOpen(file, e.getMessage(), e);
    }
    try {
      configure(connection, synchronous);
      StoreIntegrity.quickCheck(connection, file);
      SqliteMigrations.apply(file, System.currentTimeMillis());
      SubscriberBackfill.fill(connection);
      for (String suffix : new String[] {"", "-wal", "-shm"}) {
        PrivateFiles.restrict(Path.of(file + suffix));
      }
      return connection;
    } catch (SQLException | IOException | RuntimeException e) {
      closeQuietly(connection);
      if (e instanceof IllegalStateException refused) {
        throw refused;
      }
      if (e instanceof SQLException sql && StoreIntegrity.isDamage(sql)) {
        throw StoreIntegrity.damaged(file, sql.getMessage());
      }
      throw cannotOpen(file, e.getMessage(), e);
    }
  }

  private static void configure(Connection connection, String synchronous) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS);
      try (ResultSet mode = statement.executeQuery("PRAGMA journal_mode = WAL")) {
        String journal = mode.next() ? mode.getString(1) : null;
        if (!"wal".equalsIgnoreCase(journal)) {
          // Without WAL every commit blocks readers and the group commit loses most of its point.
          throw new SQLException("the file system does not support WAL mode (journal mode is " + journal + ")");
        }
      }
      statement.execute("PRAGMA synchronous = " + synchronous);
      statement.execute("PRAGMA foreign_keys = ON");
    }
  }

  private static StoreRefusal cannotOpen(Path file, String reason, Throwable cause) {
    return new StoreRefusal("Cannot open the delivery store " + file + ": " + reason + ".", cause);
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException ignored) {
      // Already failing to open; the first reason is the one to report.
    }
  }

  /**
   * Prepares a job on the caller's thread (reading the arguments there, before the caller can change them) and
   * queues it. A bad argument fails the returned future rather than throwing into the caller's handler.
   */
  private <T> Future<T> submit(Callable<GroupCommitWriter.Job<T>> prepare) {
    GroupCommitWriter.Job<T> job;
    try {
      job = prepare.call();
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
    return writer.submit(job);
  }

  /** Transactions committed so far; far fewer than calls when callers are concurrent (group commit). */
  long commits() {
    return writer.commits();
  }

  /** Runs a job on the store's connection in its turn, for tests that look at what the file holds. */
  <T> Future<T> inTransaction(GroupCommitWriter.Job<T> job) {
    return writer.submit(job);
  }

  @Override
  public Future<Accepted> accept(NewDelivery newDelivery, Duration repeatWindow, Instant leaseUntil) {
    return submit(() -> {
      Delivery d = newDelivery.delivery();
      String bodyHash = Objects.requireNonNull(newDelivery.bodyHash(), "bodyHash");
      long receivedAt = d.receivedAt().toEpochMilli();
      // Encoded on the caller's thread: the writer must not read a JsonObject its owner may still be changing.
      String payload = d.payload().encode();
      String subscriber = SubscriberText.of(d.payload());
      return connection -> {
        if (repeatWindow != null && !repeatWindow.isNegative() && !repeatWindow.isZero()) {
          // Inside the transaction, so a repeat queued in the same batch sees the earlier job's insert.
          try (PreparedStatement find = connection.prepareStatement("SELECT id FROM deliveries "
              + "WHERE integration = ? AND body_hash = ? AND received_at >= ? "
              + "ORDER BY received_at DESC, id DESC LIMIT 1")) {
            find.setString(1, d.integration());
            find.setString(2, bodyHash);
            find.setLong(3, d.receivedAt().minus(repeatWindow).toEpochMilli());
            try (ResultSet rows = find.executeQuery()) {
              if (rows.next()) {
                return new Accepted(rows.getString(1), true);
              }
            }
          }
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO deliveries (id, integration, "
            + "received_at, remote_address, payload, body_hash, state, attempts, uncertain, first_failed_at, "
            + "next_attempt_at, lease_until, updated_at, subscriber) "
            + "VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?)")) {
          insert.setString(1, d.id());
          insert.setString(2, d.integration());
          insert.setLong(3, receivedAt);
          insert.setString(4, d.remoteAddress());
          insert.setString(5, payload);
          insert.setString(6, bodyHash);
          insert.setInt(7, d.attempts());
          insert.setInt(8, d.uncertain() ? 1 : 0);
          setInstant(insert, 9, d.firstFailedAt());
          insert.setLong(10, receivedAt);
          setInstant(insert, 11, leaseUntil);
          insert.setLong(12, receivedAt);
          insert.setString(13, subscriber);
          insert.executeUpdate();
        }
        return new Accepted(d.id(), false);
      };
    });
  }

  @Override
  public Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit) {
    return submit(() -> {
      long nowMillis = now.toEpochMilli();
      long leaseUntil = now.plus(lease).toEpochMilli();
      return connection -> {
        List<Delivery> claimed = new ArrayList<>();
        List<Boolean> wasLeased = new ArrayList<>();
        Quarantine quarantine = new Quarantine();
        try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM deliveries "
            + "WHERE state = 'PENDING' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
            + "ORDER BY next_attempt_at, id LIMIT ?")) {
          select.setLong(1, nowMillis);
          select.setLong(2, nowMillis);
          select.setInt(3, limit);
          try (ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
              boolean expired = rows.getObject("lease_until") != null;
              StoredPayload payload = StoredPayload.read(rows);
              if (payload.unreadable()) {
                // One bad row must not stop every sweep: it goes DEAD with its reason, the others are claimed.
                quarantine.add(rows.getString("id"), payload.reason());
                continue;
              }
              Delivery d = delivery(rows, payload.json());
              // An expired lease means its driver was lost, maybe mid-call: the lead may exist already.
              claimed.add(expired ? withUncertain(d) : d);
              wasLeased.add(expired);
            }
          }
        }
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET lease_until = ?, "
            + "uncertain = CASE WHEN ? THEN 1 ELSE uncertain END WHERE id = ?")) {
          for (int i = 0; i < claimed.size(); i++) {
            update.setLong(1, leaseUntil);
            update.setBoolean(2, wasLeased.get(i));
            update.setString(3, claimed.get(i).id());
            update.addBatch();
          }
          if (!claimed.isEmpty()) {
            update.executeBatch();
          }
        }
        quarantine.apply(connection, nowMillis);
        return claimed;
      };
    });
  }

  @Override
  public Future<Void> renewLeases(Collection<String> ids, Instant until) {
    return submit(() -> {
      List<String> copy = List.copyOf(ids);
      long untilMillis = until.toEpochMilli();
      return connection -> {
        // Only rows still leased: one whose outcome was recorded meanwhile (lease released) must stay free.
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET lease_until = ? "
            + "WHERE id = ? AND state = 'PENDING' AND lease_until IS NOT NULL")) {
          for (String id : copy) {
            update.setLong(1, untilMillis);
            update.setString(2, id);
            update.addBatch();
          }
          if (!copy.isEmpty()) {
            update.executeBatch();
          }
        }
        return null;
      };
    });
  }

  @Override
  public Future<Integer> releaseAllLeases(Instant now) {
    return submit(() -> {
      long nowMillis = now.toEpochMilli();
      return connection -> {
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET lease_until = NULL, "
            + "uncertain = 1, next_attempt_at = MIN(next_attempt_at, ?), updated_at = ? "
            + "WHERE state = 'PENDING' AND lease_until IS NOT NULL")) {
          update.setLong(1, nowMillis);
          update.setLong(2, nowMillis);
          return update.executeUpdate();
        }
      };
    });
  }

  @Override
  public Future<Void> markDelivered(String id, Long leadId, Attempt attempt) {
    return submit(() -> {
      long at = attempt.at().toEpochMilli();
      String fields = encodeOrNull(attempt.fields());
      return connection -> {
        // From PENDING or DEAD alike: the lead exists, whatever was decided before. Already DELIVERED: nothing
        // changes, so a repeated report neither replaces the lead id nor adds to the history.
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET state = 'DELIVERED', "
            + "lead_id = ?, delivered_at = ?, lease_until = NULL, last_fields = COALESCE(?, last_fields), "
            + "updated_at = ? WHERE id = ? AND state <> 'DELIVERED'")) {
          if (leadId == null) {
            update.setNull(1, Types.INTEGER);
          } else {
            update.setLong(1, leadId);
          }
          update.setLong(2, at);
          update.setString(3, fields);
          update.setLong(4, at);
          update.setString(5, id);
          applyOutcome(connection, update, id, attempt);
        }
        return null;
      };
    });
  }

  @Override
  public Future<Void> reschedule(String id, Instant nextAttemptAt, boolean countAttempt, boolean failing,
                                 boolean uncertain, Attempt attempt) {
    return submit(() -> {
      // No attempt: nothing was tried (portal held or paused); no history row, the last error stays.
      long at = attempt != null ? attempt.at().toEpochMilli() : System.currentTimeMillis();
      String fields = attempt == null ? null : encodeOrNull(attempt.fields());
      String error = attempt == null ? null
          : attempt.description() != null ? attempt.description() : attempt.outcome();
      return connection -> {
        // Only a PENDING row: a late outcome must not bring a DELIVERED or DEAD delivery back to life.
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET "
            + "attempts = attempts + ?, "
            + "first_failed_at = CASE WHEN ? THEN COALESCE(first_failed_at, ?) ELSE first_failed_at END, "
            + "uncertain = CASE WHEN ? THEN 1 ELSE uncertain END, "
            + "lease_until = NULL, next_attempt_at = ?, last_error = COALESCE(?, last_error), "
            + "last_fields = COALESCE(?, last_fields), updated_at = ? WHERE id = ? AND state = 'PENDING'")) {
          update.setInt(1, countAttempt ? 1 : 0);
          update.setBoolean(2, failing);
          update.setLong(3, at);
          update.setBoolean(4, uncertain);
          update.setLong(5, nextAttemptAt.toEpochMilli());
          update.setString(6, error);
          update.setString(7, fields);
          update.setLong(8, at);
          update.setString(9, id);
          applyOutcome(connection, update, id, attempt);
        }
        return null;
      };
    });
  }

  @Override
  public Future<Void> markDead(String id, String reason, Attempt attempt) {
    return submit(() -> {
      long at = attempt.at().toEpochMilli();
      String fields = encodeOrNull(attempt.fields());
      return connection -> {
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET state = 'DEAD', "
            + "last_error = ?, lease_until = NULL, last_fields = COALESCE(?, last_fields), updated_at = ? "
            + "WHERE id = ? AND state = 'PENDING'")) {
          update.setString(1, reason);
          update.setString(2, fields);
          update.setLong(3, at);
          update.setString(4, id);
          applyOutcome(connection, update, id, attempt);
        }
        return null;
      };
    });
  }

  /**
   * Runs an outcome's update: when it changed the row, the attempt (if any) joins the history; when it changed
   * nothing, the row must at least exist (a known delivery in a final state is left as it is).
   */
  private static void applyOutcome(Connection connection, PreparedStatement update, String id, Attempt attempt)
      throws SQLException {
    if (update.executeUpdate() == 1) {
      if (attempt != null) {
        log(connection, id, attempt);
      }
    } else {
      requireExists(connection, id);
    }
  }

  @Override
  public Future<Integer> wake(Collection<String> integrations, Instant now) {
    return submit(() -> {
      List<String> copy = List.copyOf(integrations);
      long nowMillis = now.toEpochMilli();
      return connection -> {
        int woken = 0;
        try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET next_attempt_at = ?, "
            + "updated_at = ? WHERE integration = ? AND state = 'PENDING' AND lease_until IS NULL "
            + "AND next_attempt_at > ?")) {
          for (String integration : copy) {
            update.setLong(1, nowMillis);
            update.setLong(2, nowMillis);
            update.setString(3, integration);
            update.setLong(4, nowMillis);
            woken += update.executeUpdate();
          }
        }
        return woken;
      };
    });
  }

  @Override
  public Future<Optional<DeliveryRecord>> find(String id) {
    return writer.submit(connection -> {
      DeliveryRecord found;
      Quarantine quarantine = new Quarantine();
      try (PreparedStatement select = connection.prepareStatement(
          "SELECT " + RECORD_COLUMNS + " FROM deliveries WHERE id = ?")) {
        select.setString(1, id);
        try (ResultSet rows = select.executeQuery()) {
          if (!rows.next()) {
            return Optional.empty();
          }
          found = record(rows, history(connection, id), quarantine);
        }
      }
      quarantine.apply(connection, System.currentTimeMillis());
      return Optional.of(found);
    });
  }

  @Override
  public Future<List<DeliveryRecord>> list(DeliveryState state, String beforeId, int limit) {
    return submit(() -> {
      List<Object> args = new ArrayList<>();
      StringBuilder sql = new StringBuilder("SELECT " + RECORD_COLUMNS + " FROM deliveries WHERE 1 = 1");
      if (state != null) {
        sql.append(" AND state = ?");
        args.add(state.name());
      }
      if (beforeId != null) {
        sql.append(" AND id < ?");
        args.add(beforeId);
      }
      sql.append(" ORDER BY id DESC LIMIT ?");
      args.add(limit);
      return connection -> page(connection, sql.toString(), args);
    });
  }

  @Override
  public Future<List<DeliveryRecord>> search(DeliveryFilter filter, int limit) {
    return submit(() -> {
      List<Object> args = new ArrayList<>();
      String sql = "SELECT " + RECORD_COLUMNS + " FROM deliveries WHERE " + where(filter, args)
          + " ORDER BY id DESC LIMIT ?";
      args.add(limit);
      return connection -> page(connection, sql, args);
    });
  }

  /** A page of records; a row whose payload cannot be read is quarantined on the way (see PoisonRowTest). */
  private List<DeliveryRecord> page(Connection connection, String sql, List<Object> args) throws SQLException {
    List<DeliveryRecord> records = new ArrayList<>();
    Quarantine quarantine = new Quarantine();
    try (PreparedStatement select = connection.prepareStatement(sql)) {
      bind(select, args);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          records.add(record(rows, List.of(), quarantine));
        }
      }
    }
    quarantine.apply(connection, System.currentTimeMillis());
    return records;
  }

  @Override
  public Future<Long> count(DeliveryFilter filter) {
    return submit(() -> {
      List<Object> args = new ArrayList<>();
      String sql = "SELECT COUNT(*) FROM deliveries WHERE " + where(filter, args);
      return connection -> {
        try (PreparedStatement select = connection.prepareStatement(sql)) {
          bind(select, args);
          try (ResultSet rows = select.executeQuery()) {
            rows.next();
            return rows.getLong(1);
          }
        }
      };
    });
  }

  /** The filter as a WHERE clause; its arguments are added to {@code args} in order. */
  private static String where(DeliveryFilter filter, List<Object> args) {
    StringBuilder sql = new StringBuilder("1 = 1");
    if (filter.state() != null) {
      sql.append(" AND state = ?");
      args.add(filter.state().name());
    }
    if (filter.integration() != null) {
      sql.append(" AND integration = ?");
      args.add(filter.integration());
    }
    if (filter.receivedFrom() != null) {
      sql.append(" AND received_at >= ?");
      args.add(filter.receivedFrom().toEpochMilli());
    }
    if (filter.receivedTo() != null) {
      sql.append(" AND received_at < ?");
      args.add(filter.receivedTo().toEpochMilli());
    }
    if (filter.needle() != null) {
      // instr, not LIKE: no wildcard in what an operator typed can change the match. The substring is looked for
      // in the narrow subscriber index rather than in the rows, which carry their payloads.
      sql.append(" AND (id IN (?, ?) OR id IN (SELECT id FROM deliveries INDEXED BY deliveries_subscriber"
          + " WHERE instr(subscriber, ?) > 0))");
      args.add(filter.idNeedle());
      args.add(filter.needle());
      args.add(filter.needle());
    }
    if (filter.beforeId() != null) {
      sql.append(" AND id < ?");
      args.add(filter.beforeId());
    }
    return sql.toString();
  }

  private static void bind(PreparedStatement statement, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      statement.setObject(i + 1, args.get(i));
    }
  }

  @Override
  public Future<Boolean> retry(String id, Instant now) {
    return submit(() -> {
      long nowMillis = now.toEpochMilli();
      return connection -> {
        try (PreparedStatement update = connection.prepareStatement(RETRY + " AND id = ?")) {
          update.setLong(1, nowMillis);
          update.setLong(2, nowMillis);
          update.setString(3, id);
          return update.executeUpdate() == 1;
        }
      };
    });
  }

  @Override
  public Future<Integer> retryAll(DeliveryState state, Instant now) {
    return submit(() -> {
      if (state != DeliveryState.DEAD && state != DeliveryState.PENDING) {
        throw new IllegalArgumentException("Only DEAD or PENDING deliveries can be replayed, not " + state
            + ": a DELIVERED one would make a second lead.");
      }
      long nowMillis = now.toEpochMilli();
      return connection -> {
        try (PreparedStatement update = connection.prepareStatement(RETRY + " AND state = ?")) {
          update.setLong(1, nowMillis);
          update.setLong(2, nowMillis);
          update.setString(3, state.name());
          return update.executeUpdate();
        }
      };
    });
  }

  @Override
  public Future<Integer> purgeDelivered(Instant deliveredBefore) {
    return submit(() -> {
      long before = deliveredBefore.toEpochMilli();
      return connection -> {
        // The attempt history goes with its delivery (ON DELETE CASCADE, foreign keys are on).
        try (PreparedStatement delete = connection.prepareStatement(
            "DELETE FROM deliveries WHERE state = 'DELIVERED' AND delivered_at < ?")) {
          delete.setLong(1, before);
          return delete.executeUpdate();
        }
      };
    });
  }

  @Override
  public void observeCommits(CommitObserver observer) {
    writer.observe(observer);
  }

  @Override
  public Future<List<Backlog>> backlog() {
    return writer.submit(connection -> {
      List<Backlog> backlog = new ArrayList<>();
      try (Statement statement = connection.createStatement();
           ResultSet rows = statement.executeQuery("SELECT integration, "
               + "SUM(CASE WHEN state = 'PENDING' THEN 1 ELSE 0 END), "
               + "MIN(CASE WHEN state = 'PENDING' THEN received_at END), "
               + "SUM(CASE WHEN state = 'DEAD' THEN 1 ELSE 0 END) "
               + "FROM deliveries WHERE state IN ('PENDING', 'DEAD') GROUP BY integration ORDER BY integration")) {
        while (rows.next()) {
          backlog.add(new Backlog(rows.getString(1), rows.getLong(2), instant(rows, 3), rows.getLong(4)));
        }
      }
      return backlog;
    });
  }

  // --- OAuth application tokens ---

  @Override
  public Future<Optional<TokenPair>> loadTokens(String portal) {
    return writer.submit(connection -> {
      try (PreparedStatement select = connection.prepareStatement(
          "SELECT access_token, refresh_token, expires_at FROM portal_tokens WHERE portal = ?")) {
        select.setString(1, portal);
        try (ResultSet rows = select.executeQuery()) {
          return rows.next()
              ? Optional.of(new TokenPair(rows.getString(1), rows.getString(2), instant(rows, 3)))
              : Optional.<TokenPair>empty();
        }
      }
    });
  }

  @Override
  public Future<Void> saveTokens(String portal, TokenPair tokens) {
    return submit(() -> {
      Objects.requireNonNull(portal, "portal");
      Objects.requireNonNull(tokens, "tokens");
      long now = System.currentTimeMillis();
      return connection -> {
        try (PreparedStatement upsert = connection.prepareStatement("INSERT INTO portal_tokens (portal, access_token, "
            + "refresh_token, expires_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (portal) DO UPDATE SET "
            + "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
            + "expires_at = excluded.expires_at, updated_at = excluded.updated_at")) {
          upsert.setString(1, portal);
          upsert.setString(2, tokens.accessToken());
          upsert.setString(3, tokens.refreshToken());
          setInstant(upsert, 4, tokens.expiresAt());
          upsert.setLong(5, now);
          upsert.executeUpdate();
        }
        return null;
      };
    });
  }

  /**
   * The store's part of {@code /health}: DOWN when its file is gone or its last writing commit failed. Goes through
   * the writer, so the file is checked now even when no webhook came in for a while.
   */
  public Future<JsonObject> health() {
    return writer.submit(connection -> null).transform(checked -> Future.succeededFuture(health.toJson()));
  }

  @Override
  public Future<Void> close() {
    return writer.close();
  }

  private static void log(Connection connection, String id, Attempt attempt) throws SQLException {
    try (PreparedStatement insert = connection.prepareStatement("INSERT INTO attempts_log (delivery_id, at, "
        + "outcome, error_class, http_status, code, description) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, id);
      insert.setLong(2, attempt.at().toEpochMilli());
      insert.setString(3, attempt.outcome());
      insert.setString(4, attempt.errorClass());
      if (attempt.httpStatus() == null) {
        insert.setNull(5, Types.INTEGER);
      } else {
        insert.setInt(5, attempt.httpStatus());
      }
      insert.setString(6, attempt.code());
      insert.setString(7, attempt.description());
      insert.executeUpdate();
    }
  }

  /** An outcome for a delivery the store never had is a caller's bug; say so instead of dropping it. */
  private static void requireExists(Connection connection, String id) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement("SELECT 1 FROM deliveries WHERE id = ?")) {
      select.setString(1, id);
      try (ResultSet rows = select.executeQuery()) {
        if (!rows.next()) {
          throw new java.util.NoSuchElementException("No delivery " + id + " in the store.");
        }
      }
    }
  }

  private static List<Attempt> history(Connection connection, String id) throws SQLException {
    List<Attempt> history = new ArrayList<>();
    try (PreparedStatement select = connection.prepareStatement("SELECT at, outcome, error_class, http_status, "
        + "code, description FROM attempts_log WHERE delivery_id = ? ORDER BY rowid")) {
      select.setString(1, id);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          int status = rows.getInt(4);
          Integer httpStatus = rows.wasNull() ? null : status;
          history.add(new Attempt(instant(rows, 1), rows.getString(2), rows.getString(3), httpStatus,
              rows.getString(5), rows.getString(6), null));
        }
      }
    }
    return history;
  }

  /**
   * A row as the admin API and the command line show it. A PENDING row whose payload cannot be read is shown DEAD
   * with the reason and queued for quarantine, so listing it is enough to take it out of the scheduler's way.
   */
  private static DeliveryRecord record(ResultSet rows, List<Attempt> history, Quarantine quarantine)
      throws SQLException {
    long leadId = rows.getLong("lead_id");
    Long lead = rows.wasNull() ? null : leadId;
    String lastFields = rows.getString("last_fields");
    StoredPayload payload = StoredPayload.read(rows);
    DeliveryState state = DeliveryState.valueOf(rows.getString("state"));
    String lastError = rows.getString("last_error");
    Instant leaseUntil = instant(rows, "lease_until");
    if (payload.unreadable() && state == DeliveryState.PENDING) {
      quarantine.add(rows.getString("id"), payload.reason());
      state = DeliveryState.DEAD;
      lastError = payload.reason();
      leaseUntil = null;
    }
    return new DeliveryRecord(
        delivery(rows, payload.json()),
        state,
        instant(rows, "next_attempt_at"),
        leaseUntil,
        lead,
        lastError,
        instant(rows, "updated_at"),
        instant(rows, "delivered_at"),
        lastFields == null ? null : decode(lastFields),
        history,
        rows.getInt("attempts_made"),
        payload.unreadable() ? payload.text() : null);
  }

  private static Delivery delivery(ResultSet rows, JsonObject payload) throws SQLException {
    return new Delivery(
        rows.getString("id"),
        rows.getString("integration"),
        instant(rows, "received_at"),
        rows.getString("remote_address"),
        payload,
        rows.getInt("attempts"),
        rows.getInt("uncertain") != 0,
        instant(rows, "first_failed_at"));
  }

  /**
   * A row's payload as stored, read back. Unreadable text was written by an older release (before lone surrogates
   * were refused at intake): {@code json} is then null and {@code reason} says why.
   */
  private record StoredPayload(String text, JsonObject json, String reason) {

    static StoredPayload read(ResultSet rows) throws SQLException {
      String text = rows.getString("payload");
      try {
        return new StoredPayload(text, decode(text), null);
      } catch (RuntimeException e) {
        return new StoredPayload(text, null, UNREADABLE + e.getMessage());
      }
    }

    boolean unreadable() {
      return json == null;
    }
  }

  /** PENDING rows found unreadable while reading, made DEAD with their reason once the result set is closed. */
  private static final class Quarantine {

    private record Row(String id, String reason) {
    }

    private final List<Row> rows = new ArrayList<>();

    void add(String id, String reason) {
      rows.add(new Row(id, reason));
    }

    void apply(Connection connection, long nowMillis) throws SQLException {
      if (rows.isEmpty()) {
        return;
      }
      try (PreparedStatement update = connection.prepareStatement("UPDATE deliveries SET state = 'DEAD', "
          + "last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND state = 'PENDING'")) {
        for (Row row : rows) {
          update.setString(1, row.reason());
          update.setLong(2, nowMillis);
          update.setString(3, row.id());
          update.addBatch();
        }
        update.executeBatch();
      }
      LOG.warn("Quarantined {} deliveries whose stored payload cannot be read (now DEAD): {}", rows.size(),
          rows.stream().map(Row::id).toList());
    }
  }

  private static Delivery withUncertain(Delivery d) {
    return new Delivery(d.id(), d.integration(), d.receivedAt(), d.remoteAddress(), d.payload(), d.attempts(),
        true, d.firstFailedAt());
  }

  /**
   * The payload is mapped again from what is stored, so it must come back exactly as it arrived: the webhook
   * parser keeps key order and decimals as written ("1.50"), where {@code new JsonObject(text)} would not.
   */
  private static JsonObject decode(String json) {
    return PayloadParser.parse(PayloadParser.JSON, json.getBytes(StandardCharsets.UTF_8));
  }

  private static String encodeOrNull(JsonObject json) {
    return json == null ? null : json.encode();
  }

  private static Instant instant(ResultSet rows, String column) throws SQLException {
    long millis = rows.getLong(column);
    return rows.wasNull() ? null : Instant.ofEpochMilli(millis);
  }

  private static Instant instant(ResultSet rows, int column) throws SQLException {
    long millis = rows.getLong(column);
    return rows.wasNull() ? null : Instant.ofEpochMilli(millis);
  }

  private static void setInstant(PreparedStatement statement, int index, Instant instant) throws SQLException {
    if (instant == null) {
      statement.setNull(index, Types.INTEGER);
    } else {
      statement.setLong(index, instant.toEpochMilli());
    }
  }
}
