package io.leadrelay.cli;

import io.leadrelay.config.ConfigLoader;
import io.leadrelay.config.ConfigException;
import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.delivery.Deliveries;
import io.leadrelay.config.RelayConfig;
import io.leadrelay.mapping.LeadMapper;
import io.leadrelay.config.StoreConfig;
import io.leadrelay.store.DataDirectory;
import io.leadrelay.store.PgDeliveryStore;
import io.leadrelay.store.DeliveryRecord;
import io.leadrelay.store.DeliveryState;
import io.leadrelay.store.DeliveryStore;
import io.leadrelay.store.SqliteDeliveryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code java -jar leadrelay.jar deliveries ...}: the admin API's list, show and replay for a shell on the relay's
 * host. It reads the relay's configuration (writing nothing) and opens the SQLite store file itself; WAL mode lets it do so while the
 * relay runs, and the relay's scheduler picks replayed rows up on its next sweep. It runs on the caller's thread
 * and may block: it is a short-lived command, not part of the service.
 */
public final class DeliveriesCli {

  public static final int OK = 0;
  public static final int NOT_DONE = 1;
  public static final int USAGE = 2;

  /** Long enough for a store that the running relay holds busy (SQLite waits up to 5 s for its lock). */
  private static final long TIMEOUT_SECONDS = 30;

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;

  private DeliveriesCli(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  /**
   * Runs one command and returns its exit code: 0 done, 1 no such delivery or not replayable, 2 usage,
   * configuration or store error.
   *
   * @param env the environment to read the configuration from (System.getenv() in production)
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    CliCommand command;
    try {
      command = CliCommand.parse(args);
    } catch (CliCommand.UsageException e) {
      err.println(e.getMessage());
      err.println();
      err.println(CliCommand.USAGE);
      return USAGE;
    }
    if (command.action() == CliCommand.Action.HELP) {
      out.println(CliCommand.USAGE);
      return OK;
    }
    return new DeliveriesCli(env, out, err).execute(command);
  }

  private int execute(CliCommand command) {
    Vertx vertx = Vertx.vertx();
    try {
      // read, not load: a command must not generate secrets in DATA_DIR (wrong directory, or before the first start).
      RelayConfig config = await(ConfigLoader.read(vertx, env));
      if (config.store().kind() == StoreConfig.Kind.POSTGRES) {
        // The shared store: nothing on this machine to claim; the command is one more client of the database.
        DeliveryStore store = await(PgDeliveryStore.open(vertx, config.store().postgres(),
            "cli-" + ProcessHandle.current().pid()));
        try {
          return run(store, config, command);
        } finally {
          await(store.close());
        }
      }
      Path file = config.databaseFile().toAbsolutePath().normalize();
      if (!Files.isRegularFile(file)) {
        // Opening would create an empty store: almost always DATA_DIR or the working directory is not the relay's.
        err.println("There is no delivery store at " + file + ": run this where the relay runs, with its DATA_DIR"
            + " (or CONFIG_PATH).");
        return USAGE;
      }
      // Beside a running relay the directory is its; when none runs the command claims it, see claimIfFree.
      Optional<DataDirectory> claimed = DataDirectory.claimIfFree(config.dataDir(), file);
      boolean closedCleanly = false;
      try {
        DeliveryStore store = await(SqliteDeliveryStore.open(vertx, file, config.delivery().storeSynchronous()));
        try {
          return run(store, config, command);
        } finally {
          await(store.close());
          closedCleanly = true;
        }
      } finally {
        boolean clean = closedCleanly;
        claimed.ifPresent(directory -> directory.release(clean));
      }
    } catch (ConfigException e) {
      err.println("LeadRelay cannot read its configuration: " + e.getMessage());
      return USAGE;
    } catch (RuntimeException e) {
      err.println("The delivery store could not be used: " + e.getMessage());
      return USAGE;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null)
          .join();
    }
  }

  private int run(DeliveryStore store, RelayConfig config, CliCommand command) {
    return switch (command.action()) {
      case LIST -> list(store, command);
      case SHOW -> show(store, config, command.id());
      case RETRY -> retry(store, command.id());
      case RETRY_ALL -> retryAll(store, command.state());
      case HELP -> throw new IllegalStateException("help is answered before the store is opened");
    };
  }

  private int list(DeliveryStore store, CliCommand command) {
    int limit = command.query().limit();
    List<DeliveryRecord> records = await(store.list(command.query().state(), command.query().before(), limit + 1));
    List<DeliveryRecord> page = records.subList(0, Math.min(limit, records.size()));
    if (page.isEmpty()) {
      out.println(command.query().state() == null ? "No deliveries." : "No " + command.query().state() + " deliveries.");
      return OK;
    }
    out.print(DeliveryTable.format(page));
    if (records.size() > limit) {
      DeliveryState state = command.query().state();
      out.println("More: deliveries list" + (state == null ? "" : " --state " + state) + " --limit " + limit
          + " --before " + page.get(page.size() - 1).delivery().id());
    }
    return OK;
  }

  private int show(DeliveryStore store, RelayConfig config, String id) {
    Optional<DeliveryRecord> found = await(store.find(id));
    if (found.isEmpty()) {
      err.println("No delivery with id " + id + ".");
      return NOT_DONE;
    }
    DeliveryRecord record = found.get();
    IntegrationConfig integration = config.integrations().get(record.delivery().integration());
    // As in the admin API: what the mapping configured now would send, to check a fix before replaying.
    JsonObject mapped = integration == null || record.delivery().payload() == null ? null
        : new LeadMapper(integration.mapping()).fields(record.delivery().payload(), record.delivery().id());
    out.println(record.toDetailJson().put("mappedFields", mapped).encodePrettily());
    return OK;
  }

  private int retry(DeliveryStore store, String id) {
    if (await(new Deliveries(store).replay(id, Instant.now()))) {
      out.println("Delivery " + id + " is PENDING and due now: the relay sends it on its next sweep (at once if it"
          + " is running, else when it starts).");
      return OK;
    }
    Optional<DeliveryRecord> found = await(store.find(id));
    if (found.isEmpty()) {
      err.println("No delivery with id " + id + ".");
    } else {
      DeliveryRecord record = found.get();
      err.println("Delivery " + id + " is " + record.state()
          + (record.leadId() == null ? "" : " (lead " + record.leadId() + ")")
          + ": replaying it would create a second lead.");
    }
    return NOT_DONE;
  }

  private int retryAll(DeliveryStore store, DeliveryState state) {
    int count = await(new Deliveries(store).replayAll(state, Instant.now()));
    out.println(count == 0 ? "No " + state + " deliveries to replay."
        : "Replayed " + count + " " + state + " deliver" + (count == 1 ? "y" : "ies")
            + ": the relay sends them on its next sweep (at once if it is running, else when it starts).");
    return OK;
  }

  /** Waits on the command's own thread (never an event loop), turning a failure back into its exception. */
  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(String.valueOf(e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("no answer within " + TIMEOUT_SECONDS + " seconds", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
