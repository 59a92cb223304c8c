package io.leadrelay.cluster;

import io.leadrelay.Addresses;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.PortalConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Which portals this node owns: exactly one live node at a time sends for each Bitrix24 portal. Every node runs
 * one; each holds or contends for a lease row per portal in PostgreSQL ({@link LeaseSql}), renewed every quarter of
 * the lease on a small pool of its own, and taken over by another node once it has run out. {@link PortalLease}
 * decides locally, on the monotonic clock, when this node must stop acting.
 *
 * <p>The sender reads {@link #isOwner} right before each request and carries {@link #epoch} into every write about
 * the portal's deliveries (guarded by {@link LeaseSql#guard}). The listeners run on this verticle's event loop.
 * Stopping gives the held leases up at once, so an orderly restart hands portals on within one renewal period.
 */
public final class PortalOwnership extends VerticleBase implements Ownership {

  private static final Logger LOG = LoggerFactory.getLogger(PortalOwnership.class);

  /** A lease as the database has it, for the health report. */
  public record Holder(String portal, String owner, long epoch, boolean live) {
  }

  private final PgConnectOptions database;
  private final String owner;
  private final Duration lease;
  private final Map<String, PortalLease> leases = new LinkedHashMap<>();
  private final List<BiConsumer<String, Long>> acquiredHandlers = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> lostHandlers = new CopyOnWriteArrayList<>();
  private Pool pool;
  private long renewTimer = -1;
  private long expiryTimer = -1;
  /** Attempts under way, which stopping waits for before it gives leases up (one would renew what was given up). */
  private final Set<Future<?>> attempting = new HashSet<>();
  private boolean unreachable;
  /** A sooner attempt while the database cannot be reached, so that a term is renewed or retaken soon after. */
  private long retryTimer = -1;
  /** Set when stopping: no attempt is started any more. */
  private boolean attemptsStopped;
  /** How soon after a failed attempt the next one goes, while the database cannot be reached. */
  private static final long RETRY_UNREACHABLE_MS = 500;
  private long outsideTimer = -1;
  /** Portal to owner outside this node's cluster: at the last look, and confirmed by two looks a lease apart. */
  private Map<String, String> seenOutside = Map.of();
  private volatile Map<String, String> outside = Map.of();

  /**
   * @param database where the leases are (the delivery store's database)
   * @param nodeId   this node's name; the owner name on its leases adds a token of this run to it
   * @param portals  the keys of the portals this node can send for
   * @param lease    how long a lease lasts unrenewed: a dead owner's portals are taken within this plus a quarter
   */
  public PortalOwnership(PgConnectOptions database, String nodeId, Collection<String> portals, Duration lease) {
    this(database, nodeId, portals, lease, System::nanoTime);
  }

  PortalOwnership(PgConnectOptions database, String nodeId, Collection<String> portals, Duration lease,
                  LongSupplier clock) {
    this.database = database;
    // Unique per run whatever the name: a restarted node, or two configured alike, must never pass for the
    // holder of another run's lease (it would keep that run's epoch and act beside it).
    this.owner = nodeId + "/" + UUID.randomUUID().toString().substring(0, 8);
    this.lease = lease;
    portals.forEach(portal -> leases.put(portal, new PortalLease(portal, lease, clock)));
  }

  /**
   * The lease key of a portal: its address without path or webhook code ({@code https://shop.bitrix24.ru}), the
   * same for every integration that reaches that portal (its limits are the portal's), and safe to log.
   */
  public static String keyOf(PortalConfig portal) {
    if (portal.oauth() != null) {
      return portal.oauth().portalKey();
    }
    URI url = portal.webhookUrl();
    return url.getScheme().toLowerCase(Locale.ROOT) + "://" + url.getHost().toLowerCase(Locale.ROOT)
        + (url.getPort() == -1 ? "" : ":" + url.getPort());
  }

  /** The lease keys of every configured portal, each once; dry-run integrations have none. */
  public static List<String> keysOf(Collection<IntegrationConfig> integrations) {
    return integrations.stream().flatMap(integration -> integration.portal().stream())
        .map(PortalOwnership::keyOf).distinct().sorted().toList();
  }

  /** Called with the portal and its new epoch when this node becomes (or again becomes) its owner. */
  @Override
  public PortalOwnership onAcquired(BiConsumer<String, Long> handler) {
    acquiredHandlers.add(handler);
    return this;
  }

  /** Called with the portal when this node must stop acting for it. */
  @Override
  public PortalOwnership onLost(Consumer<String> handler) {
    lostHandlers.add(handler);
    return this;
  }

  /** The name this node holds leases under: its node id and a token of this run. */
  @Override
  public String owner() {
    return owner;
  }

  /** A quarter of the lease: see {@link Ownership#settleAfterTakeover()}. */
  @Override
  public Duration settleAfterTakeover() {
    return PortalLease.renewEvery(lease);
  }

  /** Whether this node may act for the portal at this moment (any thread). */
  @Override
  public boolean isOwner(String portal) {
    PortalLease held = leases.get(portal);
    return held != null && held.isOwner();
  }

  /** The fencing epoch this node acts under for the portal, while it owns it (any thread). */
  @Override
  public OptionalLong epoch(String portal) {
    PortalLease held = leases.get(portal);
    return held == null ? OptionalLong.empty() : held.epoch();
  }

  /** Whether a write made under {@code epoch} would now be refused: another term of the portal has begun. */
  public Future<Boolean> fenced(String portal, long epoch) {
    return pool.preparedQuery(LeaseSql.EPOCH).execute(Tuple.of(portal))
        .map(rows -> !rows.iterator().hasNext() || rows.iterator().next().getLong(0) != epoch);
  }

  /** Every portal's lease as the database has it, this node's and the others'. */
  public Future<List<Holder>> holders() {
    return pool.query(LeaseSql.HOLDERS).execute().map(rows -> {
      List<Holder> holders = new ArrayList<>();
      for (Row row : rows) {
        holders.add(new Holder(row.getString("portal"), row.getString("owner"), row.getLong("epoch"),
            row.getBoolean("live")));
      }
      return holders;
    });
  }

  /** Completes after the first round of attempts, so a node alone owns its portals once deployed. */
  @Override
  public Future<?> start() {
    pool = newPool();
    LOG.info("Node {} contends for {} portal(s) with a {} s lease", owner, leases.size(), lease.toSeconds());
    long renewEvery = PortalLease.renewEvery(lease).toMillis();
    renewTimer = vertx.setPeriodic(renewEvery, id -> round());
    // Terms end on the local clock between renewals too: onLost comes soon after the deadline, well before the
    // database lets another node take the portal (isOwner is exact either way).
    expiryTimer = vertx.setPeriodic(Math.max(1, renewEvery / 5), id -> leases.values()
        .forEach(held -> announce(held.portal(), held.expire(), 0)));
    if (vertx.isClustered()) {
      outsideTimer = vertx.setPeriodic(lease.toMillis(), id -> lookOutside());
    }
    vertx.eventBus().<Object>localConsumer(Addresses.HEALTH_CLUSTER, message -> view()
        .onSuccess(message::reply)
        .onFailure(failure -> message.reply(new JsonObject().put("status", "DOWN")
            .put("reason", "portal leases cannot be read: " + failure.getMessage()))));
    return round();
  }

  /** The cluster for /health: members of the clustered bus, the portals' holders, and this node's role. */
  private Future<JsonObject> view() {
    return Future.all(holders(), members()).map(both -> {
      JsonObject view = ClusterView.toJson(vertx.isClustered(), owner, both.resultAt(0), both.resultAt(1));
      if (!outside.isEmpty()) {
        view.put("warning", outsideWarning(outside));
      }
      return view;
    });
  }

  /** The members of the clustered bus, each with the node id it published (none when not clustered). */
  private Future<List<ClusterView.Member>> members() {
    if (!vertx.isClustered()) {
      return Future.succeededFuture(List.of());
    }
    ClusterManager manager = ((VertxInternal) vertx).clusterManager();
    List<Future<ClusterView.Member>> each = manager.getNodes().stream().map(id -> {
      Promise<NodeInfo> info = Promise.promise();
      manager.getNodeInfo(id, info);
      return info.future().map(node -> {
        NodeCard card = NodeCard.fromJson(node.metadata());
        return new ClusterView.Member(id, card == null ? null : card.node(), node.host(), node.port());
      }).otherwise(new ClusterView.Member(id, null, 0));
    }).toList();
    return Future.all(each).map(all -> each.stream().map(Future::result).toList());
  }

  /**
   * Looks, once a lease, for portal owners that are not members of this node's cluster. A killed owner keeps its
   * lease for up to a lease after the cluster dropped it, so only an owner still outside at the next look (its
   * lease renewed meanwhile) is told: once per owner, in one sentence, and on /health while it lasts.
   */
  private void lookOutside() {
    Future.all(holders(), members()).onSuccess(both -> {
      List<ClusterView.Member> members = both.resultAt(1);
      Map<String, String> now = ClusterView.ownersOutside(owner, both.resultAt(0), members);
      Map<String, String> confirmed = new java.util.TreeMap<>();
      now.forEach((portal, holder) -> {
        if (holder.equals(seenOutside.get(portal))) {
          confirmed.put(portal, holder);
        }
      });
      seenOutside = now;
      if (!confirmed.isEmpty() && !confirmed.equals(outside)) {
        String names = String.join(", ", members.stream().map(ClusterView.Member::node).sorted().toList());
        LOG.warn("{} (members here: {})", outsideWarning(confirmed), names);
      }
      outside = confirmed;
    });
  }

  private static String outsideWarning(Map<String, String> outside) {
    Map.Entry<String, String> first = outside.entrySet().iterator().next();
    return "Portal " + first.getKey() + " is owned by " + first.getValue() + ", which is not a member of this"
        + " node's cluster: the nodes' CLUSTER_MEMBERS lists do not join them into one cluster; give every node the"
        + " same list. Nothing is lost meanwhile: the leads this node accepts wait in the database for the owner";
  }

  /**
   * Stops acting for every portal at once, then gives the held leases up in the database, after any renewal still
   * under way (which would otherwise renew a lease just given up). A database that does not answer within one
   * renewal period is not waited for: the leases then run out on their own.
   */
  @Override
  public Future<?> stop() {
    attemptsStopped = true;
    vertx.cancelTimer(renewTimer);
    vertx.cancelTimer(expiryTimer);
    vertx.cancelTimer(retryTimer);
    vertx.cancelTimer(outsideTimer);
    Map<String, Long> held = new LinkedHashMap<>();
    for (PortalLease portal : leases.values()) {
      portal.epoch().ifPresent(epoch -> held.put(portal.portal(), epoch));
      announce(portal.portal(), portal.release(), 0);
    }
    Promise<Void> givenUp = Promise.promise();
    long patience = vertx.setTimer(PortalLease.renewEvery(lease).toMillis(), id -> givenUp.tryComplete());
    Future.join(new ArrayList<>(attempting)).transform(settled -> Future.join(held.entrySet().stream()
            .map(portal -> pool.preparedQuery(LeaseSql.RELEASE).execute(Tuple.of(portal.getKey(), owner,
                portal.getValue())).onFailure(failure -> LOG.warn("Could not give up portal {} (it will be taken"
                + " when its lease runs out): {}", portal.getKey(), failure.getMessage())))
            .toList()))
        .onComplete(done -> {
          vertx.cancelTimer(patience);
          givenUp.tryComplete();
        });
    return givenUp.future().eventually(() -> pool.close());
  }

  /** One attempt per portal whose previous one has finished; terms that ran out end first. */
  private Future<?> round() {
    List<Future<?>> attempts = new ArrayList<>();
    for (PortalLease held : leases.values()) {
      announce(held.portal(), held.expire(), 0);
      held.begin().ifPresent(sentAt -> {
        Future<?> attempt = attempt(held, sentAt);
        attempting.add(attempt);
        attempt.onComplete(done -> attempting.remove(attempt));
        attempts.add(attempt);
      });
    }
    return Future.join(attempts);
  }

  private Pool newPool() {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(2).setName("leadrelay-portal-leases"))
        .connectingTo(database)
        .using(vertx)
        .build();
  }

  private Future<?> attempt(PortalLease held, long sentAt) {
    return answerWithinLease(pool.preparedQuery(LeaseSql.ACQUIRE)
            .execute(Tuple.of(held.portal(), owner, lease.toMillis() / 1000.0)))
        .onSuccess(rows -> {
          reachable();
          OptionalLong granted = epochOf(rows);
          if (granted.isPresent()) {
            announce(held.portal(), held.granted(sentAt, granted.getAsLong()), granted.getAsLong());
          } else {
            announce(held.portal(), held.refused(), 0);
          }
        })
        .onFailure(failure -> {
          if (!unreachable) {
            unreachable = true;
            LOG.warn("Cannot renew portal leases ({}); this node stops acting for its portals when its terms run"
                + " out", failure.getMessage());
          }
          announce(held.portal(), held.failed(), 0);
          // Renewals go every quarter lease; while the database is away, one try every half second as well, so
          // that its return finds this node acting again within a moment rather than at the next renewal.
          long soon = Math.min(RETRY_UNREACHABLE_MS, PortalLease.renewEvery(lease).toMillis());
          if (retryTimer < 0 && !attemptsStopped) {
            retryTimer = vertx.setTimer(soon, id -> {
              retryTimer = -1;
              if (!attemptsStopped) {
                round();
              }
            });
          }
        });
  }

  /**
   * A connection cut off without a reset (a partition, a frozen peer) would hold a renewal unanswered for as long
   * as TCP takes to notice, and this node could not even contend again once the network heals. After a whole lease
   * the renewal counts as failed and the pool is replaced; the old one's queries die with it.
   */
  private Future<RowSet<Row>> answerWithinLease(Future<RowSet<Row>> query) {
    Pool asked = pool;
    Promise<RowSet<Row>> answer = Promise.promise();
    long patience = vertx.setTimer(lease.toMillis(), id -> {
      if (answer.tryFail(new TimeoutException("no answer within " + lease.toSeconds() + " s")) && asked == pool) {
        pool = newPool();
        asked.close();
      }
    });
    query.onComplete(done -> {
      vertx.cancelTimer(patience);
      if (done.succeeded()) {
        answer.tryComplete(done.result());
      } else {
        answer.tryFail(done.cause());
      }
    });
    return answer.future();
  }

  private void reachable() {
    if (unreachable) {
      unreachable = false;
      LOG.info("Portal leases can be renewed again");
    }
  }

  private static OptionalLong epochOf(RowSet<Row> rows) {
    return rows.iterator().hasNext() ? OptionalLong.of(rows.iterator().next().getLong(0)) : OptionalLong.empty();
  }

  private void announce(String portal, PortalLease.Change change, long epoch) {
    switch (change) {
      case NONE -> {
      }
      case ACQUIRED -> acquired(portal, epoch);
      case LOST -> lost(portal);
      case NEW_TERM -> {
        lost(portal);
        acquired(portal, epoch);
      }
    }
  }

  private void acquired(String portal, long epoch) {
    LOG.info("Node {} now owns portal {} (epoch {})", owner, portal, epoch);
    acquiredHandlers.forEach(handler -> handler.accept(portal, epoch));
  }

  private void lost(String portal) {
    LOG.info("Node {} no longer owns portal {}", owner, portal);
    lostHandlers.forEach(handler -> handler.accept(portal));
  }
}
