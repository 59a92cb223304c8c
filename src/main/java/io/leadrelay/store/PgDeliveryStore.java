package io.leadrelay.store;

import io.leadrelay.http.PayloadParser;
import io.leadrelay.cluster.LeaseSql;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The shared delivery store of several relay nodes: PostgreSQL through the reactive {@code vertx-pg-client} (no
 * JDBC after start-up), with the same contract as the SQLite store. What differs, because several nodes use it:
 * <ul>
 *   <li>"now" is the database's clock wherever the store decides due-ness and leases: an instant a caller computed
 *   from its own clock is taken as the same distance from the database's now (see {@link StoreClock});</li>
 *   <li>claims use {@code FOR UPDATE SKIP LOCKED}, so concurrent claimers never get the same delivery, and every
 *   claim records its node and raises the row's lease epoch (a fencing token for outcome writes);</li>
 *   <li>repeats are caught by a primary key on (integration, body hash), so two nodes accepting the same body at
 *   once agree on one delivery;</li>
 *   <li>accepts are group-committed ({@link PgGroupCommit}): durable before the answer, one transaction per group.</li>
 * </ul>
 */
public final class PgDeliveryStore implements DeliveryStore {

  private static final Logger LOG = LoggerFactory.getLogger(PgDeliveryStore.class);

  /** Accepts (or outcomes) per group commit; groups in flight at once each hold one connection of the pool. */
  private static final int MAX_GROUP = 256;

  private static final String COLUMNS = "id, integration, received_at, remote_address, payload, state, attempts, "
      + "uncertain, first_failed_at, next_attempt_at, lease_until, lead_id, last_error, last_fields, updated_at, "
      + "delivered_at";

  private static final String RECORD_COLUMNS = COLUMNS + ", (SELECT COUNT(*) FROM attempts_log "
      + "WHERE attempts_log.delivery_id = deliveries.id) AS attempts_made";

  /** See SqliteDeliveryStore: a row still leased may be in flight, so a replay marks it uncertain. */
  private static final String RETRY = "UPDATE deliveries SET state = 'PENDING', next_attempt_at = " + at(1) + ", "
      + "uncertain = uncertain OR lease_until IS NOT NULL, lease_until = NULL, lease_owner = NULL, "
      + "first_failed_at = NULL, updated_at = leadrelay_now_ms() WHERE state IN ('DEAD', 'PENDING')";

  private static final String ACCEPT = "WITH guard AS ("
      + "INSERT INTO repeat_guard (integration, body_hash, delivery_id, received_at) VALUES ($2, $6, $1, $3) "
      + "ON CONFLICT (integration, body_hash) DO UPDATE SET delivery_id = excluded.delivery_id, "
      + "received_at = excluded.received_at "
      + "WHERE NOT $7 OR repeat_guard.received_at < excluded.received_at - $8 RETURNING delivery_id) "
      + "INSERT INTO deliveries (id, integration, received_at, remote_address, payload, body_hash, state, attempts, "
      + "uncertain, first_failed_at, next_attempt_at, lease_until, lease_owner, lease_epoch, updated_at, subscriber) "
      + "SELECT $1::TEXT, $2::TEXT, $3::BIGINT, $4::TEXT, $5::TEXT, $6::TEXT, 'PENDING', $9::INT, $10::BOOLEAN, "
      + "$11::BIGINT, " + at(12) + ", CASE WHEN $14::BOOLEAN THEN " + at(15) + " END, "
      + "CASE WHEN $14::BOOLEAN THEN $17::TEXT END, CASE WHEN $14::BOOLEAN THEN 1 ELSE 0 END, "
      + "leadrelay_now_ms(), $18::TEXT FROM guard RETURNING id";

  /**
   * Many accepts in one statement (the first of each body in a group, see {@link #acceptGroup}): the rows come as
   * one array per column, in the group's order ($1–$14); $15/$16 are the repeat window as in {@link #ACCEPT}, $17
   * this node. A row whose body's guard holds another delivery within the window is not inserted: a repeat.
   */
  private static final String ACCEPT_MANY = "WITH input AS (SELECT * FROM unnest($1::TEXT[], $2::TEXT[], "
      + "$3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::INT[], $8::BOOLEAN[], $9::BIGINT[], $10::BIGINT[], "
      + "$11::BIGINT[], $12::BOOLEAN[], $13::BIGINT[], $14::BIGINT[], $18::TEXT[]) WITH ORDINALITY AS i (id, "
      + "integration, received_at, remote_address, payload, body_hash, attempts, uncertain, first_failed_at, due_at, "
      + "due_in, leased, lease_at, lease_in, subscriber, n)), "
      + "guard AS (INSERT INTO repeat_guard (integration, body_hash, delivery_id, received_at) "
      + "SELECT integration, body_hash, id, received_at FROM input ORDER BY n "
      + "ON CONFLICT (integration, body_hash) DO UPDATE SET delivery_id = excluded.delivery_id, "
      + "received_at = excluded.received_at "
      + "WHERE NOT $15 OR repeat_guard.received_at < excluded.received_at - $16 RETURNING delivery_id) "
      + "INSERT INTO deliveries (id, integration, received_at, remote_address, payload, body_hash, state, attempts, "
      + "uncertain, first_failed_at, next_attempt_at, lease_until, lease_owner, lease_epoch, updated_at, subscriber) "
      + "SELECT i.id, i.integration, i.received_at, i.remote_address, i.payload, i.body_hash, 'PENDING', "
      + "i.attempts, i.uncertain, i.first_failed_at, COALESCE(i.due_at, leadrelay_now_ms() + i.due_in), "
      + "CASE WHEN i.leased THEN COALESCE(i.lease_at, leadrelay_now_ms() + i.lease_in) END, "
      + "CASE WHEN i.leased THEN $17::TEXT END, CASE WHEN i.leased THEN 1 ELSE 0 END, leadrelay_now_ms(), "
      + "i.subscriber FROM input i JOIN guard g ON g.delivery_id = i.id ORDER BY i.n RETURNING id";

  /** How long /health waits for the database to answer. Below the health report's own 2 s per part. */
  private static final Duration HEALTH_PATIENCE = Duration.ofMillis(1500);

  private final Vertx vertx;
  /** Replaced as a whole when its connections stop answering (see {@link #watched}). */
  private volatile Pool pool;
  private final String nodeId;
  private final StoreClock clock;
  private final PgSettings settings;
  private final PgGroupCommit<NewAccept, Accepted> accepts;
  private final PgGroupCommit<Outcome, Row> outcomes;
  /** Set when the store closes: no pool is replaced any more. */
  private boolean closing;
  /** Whether the database can be reached, as this store's calls find it; says each change once. */
  private final PgAvailability availability;

  /** One outcome's statement (see {@link #outcome}) and its parameters, for the delivery {@code id}. */
  private record Outcome(String id, String sql, Tuple args) {
  }

  /** An accept with everything read on the caller's thread. */
  private record NewAccept(Delivery delivery, String bodyHash, String payload, Duration repeatWindow,
                           Instant leaseUntil, String subscriber) {
  }

  private PgDeliveryStore(Vertx vertx, PgSettings settings, String nodeId, StoreClock clock) {
    this.vertx = vertx;
    this.settings = settings;
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.clock = clock;
    this.availability = new PgAvailability(settings.describe(), settings.password());
    this.pool = newPool(vertx, settings);
    // Half the pool for accepts (a 200 waits for them), a quarter for outcomes, the rest for claims and reads.
    this.accepts = new PgGroupCommit<>(vertx, () -> pool, this::acceptGroup, MAX_GROUP,
        Math.max(1, settings.poolSize() / 2));
    this.outcomes = new PgGroupCommit<>(vertx, () -> pool, PgDeliveryStore::outcomeGroup, MAX_GROUP,
        Math.max(1, settings.poolSize() / 4));
    accepts.watchGroups(this::watchForStall);
    outcomes.watchGroups(this::watchForStall);
  }

  /**
   * Brings the schema up to date (Flyway, on a worker thread) and opens the pool. {@code nodeId} names this node
   * in the leases it takes. Fails with a StoreRefusal in one sentence, the password masked, when the database
   * cannot be used.
   */
  public static Future<PgDeliveryStore> open(Vertx vertx, PgSettings settings, String nodeId) {
    return open(vertx, settings, nodeId, StoreClock.database(Clock.systemUTC()));
  }

  static Future<PgDeliveryStore> open(Vertx vertx, PgSettings settings, String nodeId, StoreClock clock) {
    return vertx.executeBlocking(() -> PgMigrations.apply(settings), false)
        .map(before -> new PgDeliveryStore(vertx, settings, nodeId, clock))
        .compose(store -> store.pool.query("SELECT 1").execute().map(store)
            .recover(failed -> store.pool.close().transform(closed -> Future.failedFuture(new StoreRefusal(
                "Cannot use the delivery store " + settings.describe() + ": " + failed.getMessage() + ".",
                failed)))));
  }

  /**
   * How long one of the relay's own calls (an accept, an outcome, a claim, a lease renewal, a health check) may
   * go unanswered before the pool's connections are taken for dead. A connection cut off without a reset (a
   * partition, a firewall or NAT that forgot it, a database moved to another host) holds its pool slot and the
   * statement on it for as long as TCP takes to give up, a quarter of an hour on Linux, and the client's own idle
   * timeouts do not reach it; with every slot held so, the node could not use the database again without a
   * restart. None of these calls runs anywhere near this long on a database that answers.
   */
  static final Duration DEAD_CONNECTIONS = Duration.ofSeconds(10);

  private static Pool newPool(Vertx vertx, PgSettings settings) {
    return PgBuilder.pool()
        // A call waits at most this long for a connection (30 s by default).
        .with(new PoolOptions().setMaxSize(settings.poolSize())
            .setConnectionTimeout((int) DEAD_CONNECTIONS.toSeconds()).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        // A connect to a host that does not answer gives up after 5 s, not the default minute.
        .with(new NetClientOptions().setConnectTimeout(5_000).setTcpKeepAlive(true))
        .connectingTo(settings.connectOptions())
        .using(vertx)
        .build();
  }

  /** Runs a call on the database, noting whether the database could be reached (see {@link PgAvailability}). */
  private <T> Future<T> watched(Supplier<Future<T>> call) {
    return watched(call, null);
  }

  /**
   * As {@link #watched(Supplier)}, for the relay's own calls, with {@code patience} before a call still unanswered
   * counts as a loss of the database (null: only a failure counts). Such a call unanswered after
   * {@link #DEAD_CONNECTIONS}, with no call answered at all meanwhile (a busy store answers others, a silent one
   * none), means the pool's connections have gone silent: the pool is replaced by a new one and closed, which fails
   * what was stuck on it (reported as the database unreachable), and the next calls connect anew. Admin reads and
   * the hourly purge are not timed so: a search of a large store may legitimately run long.
   */
  private <T> Future<T> watchedForStalls(Supplier<Future<T>> call) {
    return watchedForStalls(call, null);
  }

  private <T> Future<T> watchedForStalls(Supplier<Future<T>> call, Duration patience) {
    Pool asked = pool;
    Future<T> running = watched(() -> call.get().recover(failed -> asked != pool
        ? Future.failedFuture(new StoreUnavailable("its connection was dropped as dead", failed))
        : Future.failedFuture(failed)), patience);
    watchForStall(running);
    return running;
  }

  /** Watches a call (or a group commit's transaction) on the pool as it is now: see {@link #watchedForStalls}. */
  private void watchForStall(Future<?> running) {
    if (!running.isComplete()) {
      checkForStall(running, pool, DEAD_CONNECTIONS.toMillis());
    }
  }

  /**
   * After {@code millis}, if the call still waits: the pool is replaced once the database has answered nothing
   * for {@link #DEAD_CONNECTIONS}, else looked at again when it would have.
   */
  private void checkForStall(Future<?> running, Pool asked, long millis) {
    long timer = vertx.setTimer(Math.max(1, millis), id -> {
      if (running.isComplete() || asked != pool) {
        return;
      }
      long left = availability.silenceLeft(DEAD_CONNECTIONS);
      if (left == 0) {
        replacePool(asked);
      } else {
        checkForStall(running, asked, TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
    });
    running.onComplete(done -> vertx.cancelTimer(timer));
  }

  private <T> Future<T> watched(Supplier<Future<T>> call, Duration patience) {
    return availability.watch(call, patience, vertx);
  }

  /** The connections of {@code stuck} stopped answering: new calls go to a new pool, and the old one is closed. */
  private void replacePool(Pool stuck) {
    synchronized (this) {
      if (stuck != pool || closing) {
        return;
      }
      pool = newPool(vertx, settings);
    }
    LOG.warn("Calls to the delivery store {} got no answer for {} s: its connections are dropped as dead and new ones"
        + " opened", settings.describe(), DEAD_CONNECTIONS.toSeconds());
    stuck.close();
  }

  /** This node's name in the leases it takes. */
  public String nodeId() {
    return nodeId;
  }

  /** Transactions the accepts were committed in: far fewer than accepts when they come concurrently. */
  long acceptGroups() {
    return accepts.groups();
  }

  /** Transactions the outcomes were committed in, as {@link #acceptGroups()}. */
  long outcomeGroups() {
    return outcomes.groups();
  }

  /** The pool, for tests that look at the rows themselves. */
  SqlClient client() {
    return pool;
  }

  // --- time: see StoreClock ---

  /** SQL for the instant passed as parameters {@code $n} and {@code $n+1} (see {@link #time}). */
  private static String at(int n) {
    return "COALESCE($" + n + "::BIGINT, leadrelay_now_ms() + $" + (n + 1) + "::BIGINT)";
  }

  private Tuple time(Tuple tuple, Instant instant) {
    return tuple.addLong(clock.absolute(instant)).addLong(clock.fromNow(instant));
  }

  // --- accepting ---

  @Override
  public Future<Accepted> accept(NewDelivery newDelivery, Duration repeatWindow, Instant leaseUntil) {
    return accept(newDelivery, repeatWindow, leaseUntil, null);
  }

  /**
   * As above; an accept still waiting for its group commit at {@code giveUpAt} (null: never) is withdrawn and fails
   * with {@link StoreUnavailable}, not stored: its sender is about to be told 503.
   */
  @Override
  public Future<Accepted> accept(NewDelivery newDelivery, Duration repeatWindow, Instant leaseUntil,
                                 Instant giveUpAt) {
    NewAccept accept;
    try {
      Delivery d = newDelivery.delivery();
      // Encoded on the caller's thread: the group runs elsewhere and must not read a JsonObject still changing.
      accept = new NewAccept(d, Objects.requireNonNull(newDelivery.bodyHash(), "bodyHash"), d.payload().encode(),
          repeatWindow, leaseUntil, SubscriberText.of(d.payload()));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Duration patience = giveUpAt == null ? null : Duration.between(Instant.now(), giveUpAt);
    // Still queued when its sender is about to be answered: withdrawn, never written; that counts as the database
    // lost only if nothing else was answered meanwhile (see PgAvailability). Watched for a stall per group commit,
    // not per webhook (see the constructor).
    return watched(() -> accepts.submit(accept, patience));
  }

  /**
   * One group of accepts in one transaction. Sorted by (integration, body hash) first, so two nodes' groups take
   * the repeat guards' row locks in the same order and never deadlock; a stable sort keeps the first of identical
   * bodies first, and it is the one stored. The first webhook of each body goes in one multi-row statement (per
   * repeat window, which is one in practice): a group of 200 costs one statement, not 200. A later copy of a body
   * in the same group (a multi-row upsert cannot touch one guard twice) follows it one by one, pipelined on the
   * same connection, as a repeat of it or, with no window, a delivery of its own.
   */
  private Future<List<Accepted>> acceptGroup(SqlConnection connection, List<NewAccept> group) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < group.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.comparing((Integer i) -> group.get(i).delivery().integration())
        .thenComparing(i -> group.get(i).bodyHash()));
    Map<Long, List<Integer>> firstsByWindow = new LinkedHashMap<>();
    List<Integer> copies = new ArrayList<>();
    Set<String> bodies = new HashSet<>();
    for (int i : order) {
      NewAccept accept = group.get(i);
      if (bodies.add(accept.delivery().integration() + '\n' + accept.bodyHash())) {
        firstsByWindow.computeIfAbsent(windowMillis(accept.repeatWindow()), w -> new ArrayList<>()).add(i);
      } else {
        copies.add(i);
      }
    }
    Accepted[] answers = new Accepted[group.size()];
    List<Future<?>> written = new ArrayList<>();
    // All sent at once: the connection runs them in this order, so each copy comes after the first of its body.
    firstsByWindow.forEach((window, firsts) -> written.add(connection.preparedQuery(ACCEPT_MANY)
        .execute(acceptRows(group, firsts, window))
        .compose(inserted -> {
          Set<String> stored = new HashSet<>();
          inserted.forEach(row -> stored.add(row.getString(0)));
          List<Future<?>> repeats = new ArrayList<>();
          for (int i : firsts) {
            repeats.add(answer(connection, group.get(i), stored.contains(group.get(i).delivery().id()), answers, i));
          }
          return Future.all(repeats);
        })));
    for (int i : copies) {
      written.add(connection.preparedQuery(ACCEPT).execute(acceptRow(group.get(i)))
          .compose(inserted -> answer(connection, group.get(i), inserted.size() == 1, answers, i)));
    }
    return Future.all(written).map(done -> List.of(answers));
  }

  /** A stored accept is its own delivery; a repeat's guard names the delivery that holds the window. */
  private static Future<?> answer(SqlConnection connection, NewAccept accept, boolean stored, Accepted[] answers,
                                  int i) {
    if (stored) {
      answers[i] = new Accepted(accept.delivery().id(), false);
      return Future.succeededFuture();
    }
    return connection.preparedQuery("SELECT delivery_id FROM repeat_guard WHERE integration = $1 AND body_hash = $2")
        .execute(Tuple.of(accept.delivery().integration(), accept.bodyHash()))
        .map(found -> answers[i] = new Accepted(found.iterator().next().getString(0), true));
  }

  /** The repeat window in milliseconds, or -1 when repeats are not looked for. */
  private static long windowMillis(Duration window) {
    return window == null || window.isNegative() || window.isZero() ? -1 : window.toMillis();
  }

  /** The parameters of {@link #ACCEPT_MANY} for the accepts at {@code indexes}, one array per column. */
  private Tuple acceptRows(List<NewAccept> group, List<Integer> indexes, long window) {
    int n = indexes.size();
    String[] ids = new String[n];
    String[] integrations = new String[n];
    Long[] receivedAt = new Long[n];
    String[] remoteAddresses = new String[n];
    String[] payloads = new String[n];
    String[] hashes = new String[n];
    Integer[] attempts = new Integer[n];
    Boolean[] uncertain = new Boolean[n];
    Long[] firstFailedAt = new Long[n];
    Long[] dueAt = new Long[n];
    Long[] dueIn = new Long[n];
    Boolean[] leased = new Boolean[n];
    Long[] leaseAt = new Long[n];
    Long[] leaseIn = new Long[n];
    String[] subscribers = new String[n];
    for (int k = 0; k < n; k++) {
      NewAccept accept = group.get(indexes.get(k));
      Delivery d = accept.delivery();
      ids[k] = d.id();
      integrations[k] = d.integration();
      receivedAt[k] = d.receivedAt().toEpochMilli();
      remoteAddresses[k] = d.remoteAddress();
      payloads[k] = accept.payload();
      hashes[k] = accept.bodyHash();
      attempts[k] = d.attempts();
      uncertain[k] = d.uncertain();
      firstFailedAt[k] = millis(d.firstFailedAt());
      // Due at once: at its arrival on the caller's clock, i.e. now on the database's.
      dueAt[k] = clock.absolute(d.receivedAt());
      dueIn[k] = clock.fromNow(d.receivedAt());
      leased[k] = accept.leaseUntil() != null;
      Instant leaseUntil = accept.leaseUntil() == null ? d.receivedAt() : accept.leaseUntil();
      leaseAt[k] = clock.absolute(leaseUntil);
      leaseIn[k] = clock.fromNow(leaseUntil);
      subscribers[k] = accept.subscriber();
    }
    return Tuple.tuple().addArrayOfString(ids).addArrayOfString(integrations).addArrayOfLong(receivedAt)
        .addArrayOfString(remoteAddresses).addArrayOfString(payloads).addArrayOfString(hashes)
        .addArrayOfInteger(attempts).addArrayOfBoolean(uncertain).addArrayOfLong(firstFailedAt)
        .addArrayOfLong(dueAt).addArrayOfLong(dueIn).addArrayOfBoolean(leased).addArrayOfLong(leaseAt)
        .addArrayOfLong(leaseIn).addBoolean(window >= 0).addLong(Math.max(0, window)).addString(nodeId)
        .addArrayOfString(subscribers);
  }

  private Tuple acceptRow(NewAccept accept) {
    Delivery d = accept.delivery();
    Duration window = accept.repeatWindow();
    boolean checkRepeats = window != null && !window.isNegative() && !window.isZero();
    Tuple row = Tuple.tuple()
        .addString(d.id()).addString(d.integration()).addLong(d.receivedAt().toEpochMilli())
        .addString(d.remoteAddress()).addString(accept.payload()).addString(accept.bodyHash())
        .addBoolean(checkRepeats).addLong(checkRepeats ? window.toMillis() : 0L)
        .addInteger(d.attempts()).addBoolean(d.uncertain()).addLong(millis(d.firstFailedAt()));
    // Due at once: at its arrival on the caller's clock, i.e. now on the database's.
    time(row, d.receivedAt());
    row.addBoolean(accept.leaseUntil() != null);
    time(row, accept.leaseUntil() == null ? d.receivedAt() : accept.leaseUntil());
    return row.addString(nodeId).addString(accept.subscriber());
  }

  // --- claiming and leases ---

  @Override
  public Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit) {
    return claimDue(now, lease, limit, null);
  }

  @Override
  public Future<List<Delivery>> claimDue(Instant now, Duration lease, int limit, Collection<String> integrations) {
    Tuple args = time(Tuple.tuple(), now).addLong(lease.toMillis()).addInteger(limit).addString(nodeId);
    String only = "";
    if (integrations != null) {
      args.addArrayOfString(integrations.toArray(String[]::new));
      only = "AND integration = ANY($6) ";
    }
    // SKIP LOCKED: rows another node is claiming right now are left to it, never waited for or taken twice.
    String sql = "WITH due AS (SELECT id, lease_until IS NOT NULL AS expired FROM deliveries "
        + "WHERE state = 'PENDING' AND next_attempt_at <= " + at(1) + " " + only
        + "AND (lease_until IS NULL OR lease_until <= " + at(1) + ") "
        + "ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) "
        + "UPDATE deliveries d SET lease_until = " + at(1) + " + $3, lease_owner = $5, "
        + "lease_epoch = d.lease_epoch + 1, uncertain = d.uncertain OR due.expired "
        + "FROM due WHERE d.id = due.id RETURNING " + prefixed("d.", COLUMNS);
    return watchedForStalls(() -> pool.preparedQuery(sql).execute(args)).compose(rows -> {
      List<Row> sorted = new ArrayList<>();
      rows.forEach(sorted::add);
      sorted.sort(Comparator.comparingLong((Row r) -> r.getLong("next_attempt_at")).thenComparing(r -> r.getString("id")));
      List<Delivery> claimed = new ArrayList<>();
      List<String> unreadable = new ArrayList<>();
      for (Row row : sorted) {
        JsonObject payload = decodeOrNull(row.getString("payload"));
        if (payload == null) {
          unreadable.add(row.getString("id"));
        } else {
          claimed.add(delivery(row, payload));
        }
      }
      return quarantine(unreadable).map(claimed);
    });
  }

  @Override
  public Future<Void> renewLeases(Collection<String> ids, Instant until) {
    return renewLeases(ids, until, null);
  }

  @Override
  public Future<Void> renewLeases(Collection<String> ids, Instant until, Fence fence) {
    List<String> copy = List.copyOf(ids);
    if (copy.isEmpty()) {
      return Future.succeededFuture();
    }
    Tuple args = time(Tuple.tuple(), until).addArrayOfString(copy.toArray(String[]::new)).addString(nodeId);
    // Only leases still held (one whose outcome was recorded stays free). Unfenced: only this node's own. Fenced:
    // any node's, while this node is the portal's owner (nobody else drives its deliveries), and they become ours.
    String whose = "lease_owner = $4";
    if (fence != null) {
      args.addString(fence.portal()).addLong(fence.epoch());
      whose = LeaseSql.guard("$5::TEXT", "$6::BIGINT");
    }
    String sql = "UPDATE deliveries SET lease_until = " + at(1) + ", lease_owner = $4 "
        + "WHERE id = ANY($3) AND state = 'PENDING' AND lease_until IS NOT NULL AND " + whose;
    return watchedForStalls(() -> pool.preparedQuery(sql).execute(args)).mapEmpty();
  }

  /**
   * At start-up: the leases this node (same node id) took in an earlier life are void. Other nodes' leases are
   * left alone: they are alive or their leases expire on their own.
   */
  @Override
  public Future<Integer> releaseAllLeases(Instant now) {
    return watchedForStalls(() -> pool.preparedQuery("UPDATE deliveries SET lease_until = NULL, "
            + "lease_owner = NULL, "
            + "uncertain = TRUE, next_attempt_at = LEAST(next_attempt_at, " + at(1) + "), "
            + "updated_at = leadrelay_now_ms() WHERE state = 'PENDING' AND lease_until IS NOT NULL "
            + "AND lease_owner = $3")
        .execute(time(Tuple.tuple(), now).addString(nodeId)))
        .map(RowSet::rowCount);
  }

  @Override
  public Future<Integer> releaseForNewOwner(Collection<String> integrations, Collection<String> keep, Fence fence,
                                            Instant now) {
    Tuple args = time(Tuple.tuple(), now).addArrayOfString(integrations.toArray(String[]::new))
        .addArrayOfString(keep.toArray(String[]::new)).addString(fence.portal()).addLong(fence.epoch());
    // Whoever leased them (the previous owner, a node that handed a command over, this node in an earlier term):
    // none of them can record an outcome under this epoch, so each is driven here, looked up first.
    return watchedForStalls(() -> pool.preparedQuery("UPDATE deliveries SET lease_until = NULL, "
            + "lease_owner = NULL, "
            + "uncertain = TRUE, next_attempt_at = LEAST(next_attempt_at, " + at(1) + "), "
            + "updated_at = leadrelay_now_ms() WHERE integration = ANY($3) AND state = 'PENDING' "
            + "AND lease_until IS NOT NULL AND NOT (id = ANY($4)) AND " + LeaseSql.guard("$5::TEXT", "$6::BIGINT"))
        .execute(args))
        .map(RowSet::rowCount);
  }

  // --- outcomes ---

  @Override
  public Future<Void> markDelivered(String id, Long leadId, Attempt attempt) {
    return markDelivered(id, leadId, attempt, null);
  }

  @Override
  public Future<Void> markDelivered(String id, Long leadId, Attempt attempt, Fence fence) {
    if (attempt == null) {
      return Future.failedFuture(new NullPointerException("attempt"));
    }
    Tuple args = Tuple.tuple().addLong(leadId).addLong(attempt.at().toEpochMilli())
        .addString(encodeOrNull(attempt.fields())).addString(id);
    // From PENDING or DEAD alike: the lead exists. Already DELIVERED: nothing changes (see SqliteDeliveryStore).
    return outcome("UPDATE deliveries SET state = 'DELIVERED', lead_id = $1, delivered_at = $2, lease_until = NULL, "
        + "lease_owner = NULL, last_fields = COALESCE($3, last_fields), updated_at = $2 "
        + "WHERE id = $4 AND state <> 'DELIVERED'", args, id, attempt, fence);
  }

  @Override
  public Future<Void> reschedule(String id, Instant nextAttemptAt, boolean countAttempt, boolean failing,
                                 boolean uncertain, Attempt attempt) {
    return reschedule(id, nextAttemptAt, countAttempt, failing, uncertain, attempt, null);
  }

  @Override
  public Future<Void> reschedule(String id, Instant nextAttemptAt, boolean countAttempt, boolean failing,
                                 boolean uncertain, Attempt attempt, Fence fence) {
    long at = attempt != null ? attempt.at().toEpochMilli() : System.currentTimeMillis();
    String error = attempt == null ? null
        : attempt.description() != null ? attempt.description() : attempt.outcome();
    Tuple args = time(Tuple.tuple(), nextAttemptAt).addInteger(countAttempt ? 1 : 0).addBoolean(failing)
        .addLong(at).addBoolean(uncertain).addString(error)
        .addString(attempt == null ? null : encodeOrNull(attempt.fields())).addString(id);
    return outcome("UPDATE deliveries SET attempts = attempts + $3, "
        + "first_failed_at = CASE WHEN $4 THEN COALESCE(first_failed_at, $5) ELSE first_failed_at END, "
        + "uncertain = uncertain OR $6, lease_until = NULL, lease_owner = NULL, next_attempt_at = " + at(1) + ", "
        + "last_error = COALESCE($7, last_error), last_fields = COALESCE($8, last_fields), updated_at = $5 "
        + "WHERE id = $9 AND state = 'PENDING'", args, id, attempt, fence);
  }

  @Override
  public Future<Void> markDead(String id, String reason, Attempt attempt) {
    return markDead(id, reason, attempt, null);
  }

  @Override
  public Future<Void> markDead(String id, String reason, Attempt attempt, Fence fence) {
    if (attempt == null) {
      return Future.failedFuture(new NullPointerException("attempt"));
    }
    Tuple args = Tuple.tuple().addString(reason).addString(encodeOrNull(attempt.fields()))
        .addLong(attempt.at().toEpochMilli()).addString(id);
    return outcome("UPDATE deliveries SET state = 'DEAD', last_error = $1, lease_until = NULL, lease_owner = NULL, "
        + "last_fields = COALESCE($2, last_fields), updated_at = $3 WHERE id = $4 AND state = 'PENDING'",
        args, id, attempt, fence);
  }

  /**
   * Runs an outcome's update as one statement: when it changed the row, the attempt (if any) joins the history;
   * when it changed nothing, the row must at least exist (a known delivery in a final state is left as it is).
   * {@code update} uses parameters $1 to $n of {@code args}. Outcomes recorded at the same time are group-committed
   * as accepts are ({@link #outcomeGroup}): under load a delivered lead costs a share of one WAL flush, not one of
   * its own. The fence is checked by the statement itself, as when it was committed alone.
   */
  private Future<Void> outcome(String update, Tuple args, String id, Attempt attempt, Fence fence) {
    // Fenced: the update applies only while the portal's lease still has the owner's epoch (see LeaseSql.guard).
    String holds = "TRUE";
    if (fence != null) {
      args.addString(fence.portal()).addLong(fence.epoch());
      holds = LeaseSql.guard("$" + (args.size() - 1) + "::TEXT", "$" + args.size() + "::BIGINT");
      update = update + " AND " + holds;
    }
    int n = args.size();
    String sql = "WITH changed AS (" + update + " RETURNING id), logged AS (INSERT INTO attempts_log (delivery_id, "
        + "at, outcome, error_class, http_status, code, description) SELECT id, $" + (n + 1) + "::BIGINT, $"
        + (n + 2) + "::TEXT, $" + (n + 3) + "::TEXT, $" + (n + 4) + "::INT, $" + (n + 5) + "::TEXT, $" + (n + 6)
        + "::TEXT FROM changed WHERE $" + (n + 7) + "::BOOLEAN) "
        + "SELECT (SELECT COUNT(*) FROM changed), EXISTS (SELECT 1 FROM deliveries WHERE id = $" + (n + 8) + "::TEXT), "
        + holds;
    boolean logged = attempt != null;
    args.addLong(logged ? attempt.at().toEpochMilli() : 0L).addString(logged ? attempt.outcome() : "")
        .addString(logged ? attempt.errorClass() : null).addInteger(logged ? attempt.httpStatus() : null)
        .addString(logged ? attempt.code() : null).addString(logged ? attempt.description() : null)
        .addBoolean(logged).addString(id);
    Outcome outcome = new Outcome(id, sql, args);
    return watched(() -> outcomes.submit(outcome)).compose(row -> {
      if (row.getLong(0) == 0 && fence != null && !row.getBoolean(2)) {
        return Future.failedFuture(new Fenced(id, fence));
      }
      return row.getLong(0) == 1 || row.getBoolean(1) ? Future.<Void>succeededFuture()
          : Future.failedFuture(new NoSuchElementException("No delivery " + id + " in the store."));
    });
  }

  /**
   * One group of outcomes, pipelined in one transaction. Sorted by delivery id (stably, so two outcomes of one
   * delivery keep their order): two groups in flight lock their rows in the same order and never deadlock.
   */
  private static Future<List<Row>> outcomeGroup(SqlConnection connection, List<Outcome> group) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < group.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.comparing((Integer i) -> group.get(i).id()));
    Row[] rows = new Row[group.size()];
    List<Future<?>> written = new ArrayList<>(group.size());
    for (int i : order) {
      Outcome outcome = group.get(i);
      written.add(connection.preparedQuery(outcome.sql()).execute(outcome.args())
          .map(result -> rows[i] = result.iterator().next()));
    }
    return Future.all(written).map(done -> List.of(rows));
  }

  @Override
  public Future<Integer> wake(Collection<String> integrations, Instant now) {
    List<String> copy = List.copyOf(integrations);
    return watchedForStalls(() -> pool.preparedQuery("UPDATE deliveries SET next_attempt_at = " + at(1) + ", "
            + "updated_at = leadrelay_now_ms() WHERE integration = ANY($3) AND state = 'PENDING' "
            + "AND lease_until IS NULL AND next_attempt_at > " + at(1))
        .execute(time(Tuple.tuple(), now).addArrayOfString(copy.toArray(String[]::new))))
        .map(RowSet::rowCount);
  }

  // --- reading, replaying, purging ---

  @Override
  public Future<Optional<DeliveryRecord>> find(String id) {
    return watched(() -> pool.preparedQuery("SELECT " + RECORD_COLUMNS + " FROM deliveries WHERE id = $1")
            .execute(Tuple.of(id)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(Optional.empty());
          }
          Row row = rows.iterator().next();
          return history(id).compose(history -> {
            DeliveryRecord record = record(row, history);
            return quarantine(record.unreadablePayload() != null ? List.of(id) : List.of())
                .map(Optional.of(record));
          });
        });
  }

  private Future<List<Attempt>> history(String id) {
    return watched(() -> pool.preparedQuery("SELECT at, outcome, error_class, http_status, code, description "
        + "FROM attempts_log WHERE delivery_id = $1 ORDER BY seq").execute(Tuple.of(id))).map(rows -> {
          List<Attempt> history = new ArrayList<>();
          for (Row row : rows) {
            history.add(new Attempt(Instant.ofEpochMilli(row.getLong(0)), row.getString(1), row.getString(2),
                row.getInteger(3), row.getString(4), row.getString(5), null));
          }
          return history;
        });
  }

  @Override
  public Future<List<DeliveryRecord>> list(DeliveryState state, String beforeId, int limit) {
    return watched(() -> pool.preparedQuery("SELECT " + RECORD_COLUMNS + " FROM deliveries "
            + "WHERE ($1::TEXT IS NULL OR state = $1) AND ($2::TEXT IS NULL OR id < $2) ORDER BY id DESC LIMIT $3")
        .execute(Tuple.of(state == null ? null : state.name(), beforeId, limit)))
        .compose(this::recordsQuarantiningUnreadable);
  }

  /** A page of rows as records; a row whose payload cannot be read is quarantined on the way (see PoisonRowTest). */
  private Future<List<DeliveryRecord>> recordsQuarantiningUnreadable(Iterable<Row> rows) {
    List<DeliveryRecord> records = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    for (Row row : rows) {
      DeliveryRecord record = record(row, List.of());
      records.add(record);
      if (record.unreadablePayload() != null) {
        unreadable.add(record.delivery().id());
      }
    }
    return quarantine(unreadable).map(records);
  }

  @Override
  public Future<List<DeliveryRecord>> search(DeliveryFilter filter, int limit) {
    Tuple args = Tuple.tuple();
    String sql = "SELECT " + RECORD_COLUMNS + " FROM deliveries WHERE " + where(filter, args)
        + " ORDER BY id DESC LIMIT $" + (args.size() + 1);
    args.addInteger(limit);
    return watched(() -> pool.preparedQuery(sql).execute(args)).compose(this::recordsQuarantiningUnreadable);
  }

  @Override
  public Future<Long> count(DeliveryFilter filter) {
    Tuple args = Tuple.tuple();
    String sql = "SELECT COUNT(*) FROM deliveries WHERE " + where(filter, args);
    return watched(() -> pool.preparedQuery(sql).execute(args)).map(rows -> rows.iterator().next().getLong(0));
  }

  /** The filter as a WHERE clause with numbered parameters, added to {@code args} in order. */
  private static String where(DeliveryFilter filter, Tuple args) {
    StringBuilder sql = new StringBuilder("TRUE");
    if (filter.state() != null) {
      args.addString(filter.state().name());
      sql.append(" AND state = $").append(args.size());
    }
    if (filter.integration() != null) {
      args.addString(filter.integration());
      sql.append(" AND integration = $").append(args.size());
    }
    if (filter.receivedFrom() != null) {
      args.addLong(filter.receivedFrom().toEpochMilli());
      sql.append(" AND received_at >= $").append(args.size());
    }
    if (filter.receivedTo() != null) {
      args.addLong(filter.receivedTo().toEpochMilli());
      sql.append(" AND received_at < $").append(args.size());
    }
    if (filter.needle() != null) {
      // strpos, not LIKE: no wildcard in what an operator typed can change the match.
      args.addString(filter.idNeedle());
      sql.append(" AND (id IN ($").append(args.size());
      args.addString(filter.needle());
      sql.append(", $").append(args.size()).append(")");
      sql.append(" OR strpos(subscriber, $").append(args.size()).append(") > 0)");
    }
    if (filter.beforeId() != null) {
      args.addString(filter.beforeId());
      sql.append(" AND id < $").append(args.size());
    }
    return sql.toString();
  }

  @Override
  public Future<Boolean> retry(String id, Instant now) {
    return watched(() -> pool.preparedQuery(RETRY + " AND id = $3").execute(time(Tuple.tuple(), now).addString(id)))
        .map(updated -> updated.rowCount() == 1);
  }

  @Override
  public Future<Integer> retryAll(DeliveryState state, Instant now) {
    if (state != DeliveryState.DEAD && state != DeliveryState.PENDING) {
      return Future.failedFuture(new IllegalArgumentException("Only DEAD or PENDING deliveries can be replayed, not "
          + state + ": a DELIVERED one would make a second lead."));
    }
    return watched(() -> pool.preparedQuery(RETRY + " AND state = $3")
            .execute(time(Tuple.tuple(), now).addString(state.name())))
        .map(RowSet::rowCount);
  }

  @Override
  public Future<Integer> purgeDelivered(Instant deliveredBefore) {
    // The attempt history goes with its delivery (ON DELETE CASCADE); so do the repeat guards that name it.
    return watched(() -> pool.preparedQuery("WITH gone AS (DELETE FROM deliveries WHERE state = 'DELIVERED' "
            + "AND delivered_at < $1 RETURNING id), guards AS (DELETE FROM repeat_guard WHERE delivery_id IN "
            + "(SELECT id FROM gone)) SELECT COUNT(*) FROM gone")
        .execute(Tuple.of(deliveredBefore.toEpochMilli())))
        .map(rows -> rows.iterator().next().getLong(0).intValue());
  }

  @Override
  public void observeCommits(CommitObserver observer) {
    accepts.observe(observer);
  }

  @Override
  public Future<List<Backlog>> backlog() {
    return watched(() -> pool.query("SELECT integration, COUNT(*) FILTER (WHERE state = 'PENDING'), "
        + "MIN(received_at) FILTER (WHERE state = 'PENDING'), COUNT(*) FILTER (WHERE state = 'DEAD') "
        + "FROM deliveries WHERE state IN ('PENDING', 'DEAD') GROUP BY integration ORDER BY integration")
        .execute()).map(rows -> {
          List<Backlog> backlog = new ArrayList<>();
          for (Row row : rows) {
            backlog.add(new Backlog(row.getString(0), row.getLong(1), instant(row.getLong(2)), row.getLong(3)));
          }
          return backlog;
        });
  }

  // --- OAuth application tokens ---

  @Override
  public Future<Optional<TokenPair>> loadTokens(String portal) {
    return watchedForStalls(() -> pool.preparedQuery("SELECT access_token, refresh_token, expires_at "
            + "FROM portal_tokens WHERE portal = $1").execute(Tuple.of(portal)))
        .map(rows -> {
          if (rows.size() == 0) {
            return Optional.<TokenPair>empty();
          }
          Row row = rows.iterator().next();
          return Optional.of(new TokenPair(row.getString(0), row.getString(1), instant(row.getLong(2))));
        });
  }

  @Override
  public Future<Void> saveTokens(String portal, TokenPair tokens) {
    if (portal == null || tokens == null) {
      return Future.failedFuture(new NullPointerException(portal == null ? "portal" : "tokens"));
    }
    return watchedForStalls(() -> pool.preparedQuery("INSERT INTO portal_tokens (portal, access_token, "
            + "refresh_token, expires_at, updated_at) VALUES ($1, $2, $3, $4, leadrelay_now_ms()) "
            + "ON CONFLICT (portal) DO UPDATE SET "
            + "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
            + "expires_at = excluded.expires_at, updated_at = excluded.updated_at")
        .execute(Tuple.of(portal, tokens.accessToken(), tokens.refreshToken(), millis(tokens.expiresAt()))))
        .mapEmpty();
  }

  /**
   * The store's part of {@code /health}: UP when the database answers, DOWN with the reason (masked) if not. It
   * always asks (an answer is how a lost database is found back on a node with nothing else to do), but says DOWN
   * at once, without waiting for the answer, while the database is known to be lost, and after
   * {@link #HEALTH_PATIENCE} when it does not answer: a readiness probe must not hang on a silent database.
   */
  public Future<JsonObject> health() {
    JsonObject known = availability.downHealth();
    Promise<JsonObject> answer = Promise.promise();
    long patience = vertx.setTimer(HEALTH_PATIENCE.toMillis(), id -> answer.tryComplete(new JsonObject()
        .put("status", "DOWN").put("database", settings.describe())
        .put("reason", "the database does not answer within " + HEALTH_PATIENCE.toMillis() + " ms")));
    watchedForStalls(() -> pool.query("SELECT 1").execute(), HEALTH_PATIENCE).onComplete(done -> {
      vertx.cancelTimer(patience);
      answer.tryComplete(done.succeeded() ? new JsonObject().put("status", "UP").put("database", settings.describe())
          : new JsonObject().put("status", "DOWN").put("database", settings.describe())
          .put("reason", "the database does not answer: " + availability.describe(done.cause())));
    });
    return known != null ? Future.succeededFuture(known) : answer.future();
  }

  @Override
  public Future<Void> close() {
    Pool last;
    synchronized (this) {
      closing = true;
      last = pool;
    }
    return last.close();
  }

  // --- rows ---

  /** Unreadable PENDING rows (written outside this relay) go DEAD with the reason, as in the SQLite store. */
  private Future<Void> quarantine(List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    LOG.warn("Quarantined {} deliveries whose stored payload cannot be read (now DEAD): {}", ids.size(), ids);
    return watched(() -> pool.preparedQuery("UPDATE deliveries SET state = 'DEAD', lease_until = NULL, "
            + "lease_owner = NULL, last_error = $2 || id, updated_at = leadrelay_now_ms() WHERE id = ANY($1) "
            + "AND state = 'PENDING'")
        .execute(Tuple.of(ids.toArray(String[]::new), SqliteDeliveryStore.UNREADABLE + "not a JSON object in row ")))
        .mapEmpty();
  }

  private static DeliveryRecord record(Row row, List<Attempt> history) {
    String text = row.getString("payload");
    JsonObject payload = decodeOrNull(text);
    DeliveryState state = DeliveryState.valueOf(row.getString("state"));
    String lastError = row.getString("last_error");
    Instant leaseUntil = instant(row.getLong("lease_until"));
    if (payload == null && state == DeliveryState.PENDING) {
      state = DeliveryState.DEAD;
      lastError = SqliteDeliveryStore.UNREADABLE + "not a JSON object in row " + row.getString("id");
      leaseUntil = null;
    }
    String lastFields = row.getString("last_fields");
    return new DeliveryRecord(delivery(row, payload), state, instant(row.getLong("next_attempt_at")), leaseUntil,
        row.getLong("lead_id"), lastError, instant(row.getLong("updated_at")), instant(row.getLong("delivered_at")),
        lastFields == null ? null : decodeOrNull(lastFields), history, row.getLong("attempts_made").intValue(),
        payload == null ? text : null);
  }

  private static Delivery delivery(Row row, JsonObject payload) {
    return new Delivery(row.getString("id"), row.getString("integration"), instant(row.getLong("received_at")),
        row.getString("remote_address"), payload, row.getInteger("attempts"), row.getBoolean("uncertain"),
        instant(row.getLong("first_failed_at")));
  }

  /** The payload parsed as the webhook parser does: key order and decimals ("1.50") exactly as written. */
  private static JsonObject decodeOrNull(String json) {
    try {
      return PayloadParser.parse(PayloadParser.JSON, json.getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String encodeOrNull(JsonObject json) {
    return json == null ? null : json.encode();
  }

  private static Long millis(Instant instant) {
    return instant == null ? null : instant.toEpochMilli();
  }

  private static Instant instant(Long millis) {
    return millis == null ? null : Instant.ofEpochMilli(millis);
  }

  private static String prefixed(String prefix, String columns) {
    return prefix + columns.replace(", ", ", " + prefix);
  }
}
