package io.leadrelay.cluster;

import io.leadrelay.store.PgSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP relay between a node and PostgreSQL that can go silent: once frozen, every byte either way is dropped, as
 * when a node stalls or is cut off. From the database's side that node has simply stopped renewing.
 */
public final class FreezableProxy {

  private final Vertx vertx;
  private final String targetHost;
  private final int targetPort;
  private final List<AtomicBoolean> connections = new CopyOnWriteArrayList<>();
  private volatile boolean frozen;
  private NetServer server;
  /**
   * Held for the proxy's life: Vert.x closes a NetClient nobody references any more when it is garbage collected,
   * and with it every connection it made (a proxy that created one per connection lost them at the first GC).
   */
  private NetClient client;

  public FreezableProxy(Vertx vertx, String targetHost, int targetPort) {
    this.vertx = vertx;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  public Future<Integer> start() {
    client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(this::relay);
    return server.listen(0, "127.0.0.1").map(NetServer::actualPort);
  }

  /**
   * A proxy in front of {@code database}, started: the settings a node behind it uses (the proxy's address,
   * {@code password} in place of the database's), with the proxy to cut them off.
   */
  public static Future<Link> inFrontOf(Vertx vertx, PgSettings database, String password) {
    FreezableProxy proxy = new FreezableProxy(vertx, database.host(), database.port());
    return proxy.start().map(port -> new Link(proxy, new PgSettings("127.0.0.1", port, database.database(),
        database.user(), password, database.sslMode(), database.poolSize())));
  }

  /** A started proxy and the settings that reach the database through it. */
  public record Link(FreezableProxy proxy, PgSettings settings) {
  }

  /** Every connection goes silent, and new ones are accepted but never answered. */
  public void freeze() {
    frozen = true;
    connections.forEach(cut -> cut.set(true));
  }

  /** New connections work again; those cut while frozen stay silent, as after a real partition. */
  public void thaw() {
    frozen = false;
  }

  public Future<Void> close() {
    return server.close().eventually(() -> client.close());
  }

  private void relay(NetSocket inbound) {
    if (frozen) {
      return;
    }
    AtomicBoolean cut = new AtomicBoolean();
    connections.add(cut);
    inbound.pause();
    client.connect(targetPort, targetHost).onSuccess(outbound -> {
      inbound.handler(bytes -> {
        if (!cut.get()) {
          outbound.write(bytes);
        }
      });
      outbound.handler(bytes -> {
        if (!cut.get()) {
          inbound.write(bytes);
        }
      });
      inbound.closeHandler(v -> outbound.close());
      outbound.closeHandler(v -> inbound.close());
      inbound.resume();
    }).onFailure(failure -> inbound.close());
  }
}
