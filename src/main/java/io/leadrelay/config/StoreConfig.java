package io.leadrelay.config;

import io.leadrelay.store.PgSettings;

import java.util.Optional;

/**
 * Which delivery store the relay uses: the embedded SQLite file in DATA_DIR (one node, the default) or a shared
 * PostgreSQL database (several nodes). {@code nodeId} names this node in the leases it takes in a shared store
 * (null: the relay derives one from the host name).
 */
public record StoreConfig(Kind kind, PgSettings postgres, String nodeId) {

  public enum Kind {
    SQLITE,
    POSTGRES
  }

  public static StoreConfig sqlite() {
    return new StoreConfig(Kind.SQLITE, null, null);
  }

  public StoreConfig {
    if (kind == Kind.POSTGRES && postgres == null) {
      throw new IllegalArgumentException("A PostgreSQL store needs its settings.");
    }
  }

  public Optional<PgSettings> postgresSettings() {
    return Optional.ofNullable(postgres);
  }
}
