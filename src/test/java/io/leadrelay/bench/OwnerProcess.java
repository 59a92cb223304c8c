package io.leadrelay.bench;

import io.leadrelay.cluster.PortalOwnership;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;

import java.time.Duration;
import java.util.List;

/**
 * A node that only contends for one portal, for {@link TakeoverBenchmark} to kill: prints {@code OWNER <epoch>}
 * once it owns the portal. Arguments: database URI, portal, lease seconds.
 */
public final class OwnerProcess {

  private OwnerProcess() {
  }

  public static void main(String[] args) {
    PortalOwnership ownership = new PortalOwnership(PgConnectOptions.fromUri(args[0]),
        "victim-" + ProcessHandle.current().pid(), List.of(args[1]), Duration.ofSeconds(Long.parseLong(args[2])));
    ownership.onAcquired((portal, epoch) -> {
      System.out.println("OWNER " + epoch);
      System.out.flush();
    });
    Vertx.vertx().deployVerticle(ownership);
  }
}
