package io.leadrelay.testing;

import java.io.IOException;
import java.net.ServerSocket;

/** Free loopback ports for tests that must name a port before anything listens on it (a cluster's members). */
public final class FreePorts {

  private FreePorts() {
  }

  /** A port whose next one is free too: Hazelcast's (CLUSTER_PORT) and the clustered event bus's. */
  public static int pair() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try (ServerSocket first = new ServerSocket(0)) {
        int port = first.getLocalPort();
        if (port < 65535) {
          try (ServerSocket next = new ServerSocket(port + 1)) {
            return port;
          } catch (IOException taken) {
            // try another
          }
        }
      }
    }
    throw new IOException("no two free neighbouring ports");
  }
}
