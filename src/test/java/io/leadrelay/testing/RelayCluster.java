package io.leadrelay.testing;

import io.leadrelay.store.PgSettings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three (or more) relays as an operator runs them behind a load balancer: the real fat jar in child processes on
 * loopback, sharing one PostgreSQL database and joined into a Hazelcast cluster, each with its own HTTP, Hazelcast
 * and event-bus ports and a stable {@code NODE_ID} ({@code node1}, …), so that the portal's lease row says which
 * node owns it. Also the test side of the load balancer: round robin over the nodes, skipping a node whose
 * connection is refused and sending the webhook to the next one (a real load balancer's passive health check).
 * Used by the cluster integration tests and benchmarks; nothing here is shared with the relay.
 */
public final class RelayCluster implements AutoCloseable {

  public static final Path JAR = Path.of("target/leadrelay.jar");
  public static final String SECRET = "cluster-test-secret-0123456789";

  private final Path dir;
  private final PgSettings database;
  private final String portalUrl;
  private final int ownerLeaseSeconds;
  private final List<String> jvmOptions;
  private final List<Node> nodes = new ArrayList<>();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1)).build();

  /** What the load balancer saw: answers by status, refused connections, answers lost after the request went out
   * (each retried on the next node). */
  public final Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
  public final AtomicInteger refusedConnections = new AtomicInteger();
  public final AtomicInteger lostAnswers = new AtomicInteger();

  /** A cluster for tests: small heaps and the quick compiler, since three JVMs share two cores with the test. */
  public RelayCluster(Path dir, PgSettings database, String portalUrl, int size, int ownerLeaseSeconds) throws IOException {
    this(dir, database, portalUrl, size, ownerLeaseSeconds,
        List.of("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  }

  public RelayCluster(Path dir, PgSettings database, String portalUrl, int size, int ownerLeaseSeconds,
                      List<String> jvmOptions) throws IOException {
    assertTrue(Files.isRegularFile(JAR.toAbsolutePath()), "The cluster tests run the fat jar " + JAR.toAbsolutePath()
        + ", which is missing: build it with `mvn package` (`mvn verify` builds it before the integration tests)");
    this.dir = dir;
    this.database = database;
    this.portalUrl = portalUrl;
    this.ownerLeaseSeconds = ownerLeaseSeconds;
    this.jvmOptions = jvmOptions;
    java.util.Set<Integer> taken = new java.util.HashSet<>();
    for (int i = 1; i <= size; i++) {
      int http = freePorts(1, taken);
      int cluster = freePorts(2, taken);
      nodes.add(new Node("node" + i, http, cluster));
    }
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Node node(String id) {
    return nodes.stream().filter(n -> n.id.equals(id)).findFirst().orElseThrow(() -> new AssertionError(
        "no node " + id));
  }

  /** Starts every node at once (they form the cluster together) and waits until each serves HTTP. */
  public void startAll() throws Exception {
    for (Node node : nodes) {
      node.launch();
    }
    for (Node node : nodes) {
      node.awaitLive();
    }
  }

  private String members() {
    return nodes.stream().map(n -> "127.0.0.1:" + n.clusterPort).collect(Collectors.joining(","));
  }

  /**
   * The node whose id holds the portal's lease in the shared database (the lease owner is {@code <NODE_ID>/<run>}),
   * or empty when no node holds it. With one portal configured there is one lease row.
   */
  public Optional<String> portalOwner() {
    List<String> owners = query("SELECT owner FROM portal_leases WHERE expires_at > now()");
    return owners.stream().map(owner -> owner.contains("/") ? owner.substring(0, owner.indexOf('/')) : owner)
        .findFirst();
  }

  /** The live nodes whose /health says they own a portal (cluster.role "owner"). */
  public List<String> ownersByHealth() throws InterruptedException {
    List<String> owners = new ArrayList<>();
    for (Node node : nodes) {
      if (node.alive() && "owner".equals(node.healthRole())) {
        owners.add(node.id);
      }
    }
    return owners;
  }

  /** The PENDING deliveries whose lease the node ({@code NODE_ID}) holds in the shared store: its work in hand. */
  public List<String> leasedBy(Node node) {
    return query("SELECT id FROM deliveries WHERE state = 'PENDING' AND lease_until IS NOT NULL AND lease_owner = '"
        + node.id + "'");
  }

  /** How many of these deliveries are not DELIVERED in the shared store. */
  public int undelivered(java.util.Collection<String> ids) {
    if (ids.isEmpty()) {
      return 0;
    }
    String list = ids.stream().map(id -> "'" + id.replace("'", "''") + "'").collect(Collectors.joining(","));
    return Integer.parseInt(query("SELECT count(*) FROM deliveries WHERE state <> 'DELIVERED' AND id IN (" + list
        + ")").get(0));
  }

  /** Deliveries not yet delivered or dead, from the shared store. */
  public int pending() {
    return Integer.parseInt(query("SELECT count(*) FROM deliveries WHERE state = 'PENDING'").get(0));
  }

  private List<String> query(String sql) {
    Properties login = new Properties();
    login.setProperty("user", database.user());
    if (database.password() != null) {
      login.setProperty("password", database.password());
    }
    String jdbc = "jdbc:postgresql://" + database.host() + ":" + database.port() + "/" + database.database();
    try (Connection connection = DriverManager.getConnection(jdbc, login);
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery(sql)) {
      List<String> values = new ArrayList<>();
      while (rows.next()) {
        values.add(rows.getString(1));
      }
      return values;
    } catch (SQLException e) {
      // portal_leases does not exist before the first node migrated the schema: nobody owns anything yet.
      if ("42P01".equals(e.getSQLState())) {
        return List.of();
      }
      throw new IllegalStateException("Querying the cluster's database failed: " + e.getMessage(), e);
    }
  }

  /** The webhook's answer through the load balancer: the node that answered, the status and body. */
  public record Answer(Node node, int status, String body) {
  }

  /**
   * Posts a webhook the way a load balancer forwards it: to the next node in round robin; a refused connection
   * (nothing reached the node) or a lost answer moves it on to the next node, pausing briefly once every node has
   * failed in a row, until {@code giveUp}. Empty when no node answered in time.
   */
  public Optional<Answer> post(String body, Duration giveUp) throws InterruptedException {
    long deadline = System.nanoTime() + giveUp.toNanos();
    int failedInARow = 0;
    while (System.nanoTime() < deadline) {
      Node node = nodes.get(Math.floorMod(roundRobin.getAndIncrement(), nodes.size()));
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(node.webhookUri())
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        answers.computeIfAbsent(response.statusCode(), s -> new AtomicInteger()).incrementAndGet();
        return Optional.of(new Answer(node, response.statusCode(), response.body()));
      } catch (ConnectException e) {
        refusedConnections.incrementAndGet();
      } catch (IOException e) {
        // The request went out and no answer came (the node died, or closed the connection as it stopped). Like a
        // load balancer's retry on an empty response, send it to the next node: the relay takes an identical body
        // within its repeat window as the same delivery, so this never makes a second lead.
        lostAnswers.incrementAndGet();
      }
      if (++failedInARow % nodes.size() == 0) {
        Thread.sleep(50);
      }
    }
    return Optional.empty();
  }

  /** Answers with a 5xx status the load balancer got, from any node. */
  public int serverErrors() {
    return answers.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(e -> e.getValue().get()).sum();
  }

  @Override
  public void close() throws InterruptedException {
    for (Node node : nodes) {
      node.kill();
    }
  }

  public void printConsoleTails() {
    nodes.forEach(Node::printConsoleTails);
  }

  /** Polls a condition every 50 ms until it holds, failing with what was awaited after the limit. */
  public static void waitUntil(Duration limit, BooleanSupplier condition, Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("Waited " + limit.toSeconds() + " s for " + what.get());
      }
      Thread.sleep(50);
    }
  }

  /**
   * A free port whose successor is free too (Hazelcast listens on the first, the clustered event bus on the next),
   * or with {@code width} 1 a single free port, none of them already {@code taken} by another node. Taken below the
   * kernel's ephemeral range: a port from that range can be handed to some outgoing connection (the nodes open many
   * to each other) between this check and the node's bind.
   */
  private static int freePorts(int width, java.util.Set<Integer> taken) throws IOException {
    int below = ephemeralLow();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(Math.min(10_000, below / 2), below - width);
      if (IntStream.range(port, port + width).noneMatch(taken::contains)
          && IntStream.range(port, port + width).allMatch(RelayCluster::free)) {
        IntStream.range(port, port + width).forEach(taken::add);
        return port;
      }
    }
    throw new IOException("no " + width + " consecutive free ports found below " + below);
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** The low end of the kernel's ephemeral port range (Linux), 32768 when unknown. (Files.readString misreads
   * /proc files, whose size shows as 0: read them by line.) */
  private static int ephemeralLow() {
    try {
      return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
          .split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }

  /** One relay process; restarts on the same ports, node id, and directories. */
  public final class Node {
    public final String id;
    public final int httpPort;
    public final int clusterPort;
    private final List<Path> consoles = new ArrayList<>();
    private Process process;

    Node(String id, int httpPort, int clusterPort) {
      this.id = id;
      this.httpPort = httpPort;
      this.clusterPort = clusterPort;
    }

    public URI webhookUri() {
      return URI.create("http://127.0.0.1:" + httpPort + "/webhook/default/" + SECRET);
    }

    public long pid() {
      return process.pid();
    }

    /** The process's resident memory now and at its peak (VmRSS, VmHWM from /proc), e.g. "312 MB (peak 340 MB)". */
    public String rss() throws IOException {
      Map<String, String> status = Files.readAllLines(Path.of("/proc/" + pid() + "/status")).stream()
          .filter(line -> line.startsWith("VmRSS") || line.startsWith("VmHWM"))
          .collect(Collectors.toMap(line -> line.substring(0, 5), line -> line.substring(6).trim()));
      return megabytes(status.get("VmRSS")) + " MB (peak " + megabytes(status.get("VmHWM")) + " MB)";
    }

    private static long megabytes(String kilobytes) {
      return kilobytes == null ? -1 : Long.parseLong(kilobytes.replace("kB", "").trim()) / 1024;
    }

    public boolean alive() {
      return process != null && process.isAlive();
    }

    /** Starts the process and waits until it serves HTTP. */
    public void start() throws Exception {
      launch();
      awaitLive();
    }

    private void launch() throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      int run = consoles.size() / 2 + 1;
      Path out = dir.resolve(id + "-console-" + run + ".out");
      Path err = dir.resolve(id + "-console-" + run + ".err");
      consoles.add(out);
      consoles.add(err);
      List<String> command = new ArrayList<>(List.of(java));
      command.addAll(jvmOptions);
      command.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(dir.toFile())
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      Map<String, String> env = builder.environment();
      env.keySet().removeIf(k -> k.startsWith("HTTP_") || k.startsWith("BITRIX_") || k.startsWith("BOTHELP_")
          || k.startsWith("LOG_") || k.startsWith("CLUSTER_") || k.startsWith("PG") || k.equals("DATA_DIR")
          || k.equals("CONFIG_PATH") || k.equals("ADMIN_TOKEN") || k.equals("STORE") || k.equals("DATABASE_URL")
          || k.equals("NODE_ID"));
      env.put("HTTP_HOST", "127.0.0.1");
      env.put("HTTP_PORT", String.valueOf(httpPort));
      env.put("BOTHELP_SECRET", SECRET);
      env.put("BITRIX_WEBHOOK_URL", portalUrl);
      env.put("STORE", "postgres");
      env.put("DATABASE_URL", "postgresql://" + database.user()
          + (database.password() == null ? "" : ":" + database.password()) + "@" + database.host() + ":"
          + database.port() + "/" + database.database());
      env.put("NODE_ID", id);
      env.put("CLUSTER_MEMBERS", members());
      env.put("CLUSTER_HOST", "127.0.0.1");
      env.put("CLUSTER_PORT", String.valueOf(clusterPort));
      env.put("OWNER_LEASE_SECONDS", String.valueOf(ownerLeaseSeconds));
      env.put("DATA_DIR", dir.resolve(id + "-data").toString());
      env.put("LOG_DIR", dir.resolve(id + "-logs").toString());
      env.put("BITRIX_REQUEST_TIMEOUT_MS", "2000");
      env.put("RETRY_BASE_MS", "200");
      env.put("SWEEP_INTERVAL_MS", "250");
      env.put("LEASE_SECONDS", "5");
      process = builder.start();
    }

    private void awaitLive() throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!live()) {
        if (!process.isAlive()) {
          printConsoleTails();
          fail(id + " exited with " + process.exitValue() + " before it was live");
        }
        if (System.nanoTime() > deadline) {
          printConsoleTails();
          fail(id + " was not live 60 s after start");
        }
        Thread.sleep(100);
      }
    }

    private boolean live() throws InterruptedException {
      try {
        return get("/health/live").statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    }

    /** This node's /health, or null when it does not answer. */
    public JsonObject health() throws InterruptedException {
      try {
        return new JsonObject(get("/health").body());
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }

    /** True when a member's description names this node's Hazelcast port or its event-bus port (the next one). */
    public boolean describedBy(String member) {
      return member.matches("(?s).*:(" + clusterPort + "|" + (clusterPort + 1) + ")(\\D.*)?");
    }

    /** What this node's /health says its cluster role is ({@code cluster.role}: owner, standby), or null. */
    public String healthRole() throws InterruptedException {
      JsonObject health = health();
      JsonObject cluster = health == null ? null : health.getJsonObject("cluster");
      return cluster == null ? null : cluster.getString("role");
    }

    /**
     * The cluster members this node's /health lists: the strings of the first {@code members} array anywhere in it
     * (an object's fields joined, when members are objects). Empty when /health shows none.
     */
    public List<String> healthMembers() throws InterruptedException {
      JsonObject health = health();
      JsonArray members = health == null ? null : findArray(health, "members");
      List<String> listed = new ArrayList<>();
      if (members != null) {
        members.forEach(member -> listed.add(member instanceof JsonObject object
            ? object.getMap().values().toString() : String.valueOf(member)));
      }
      return listed;
    }

    private static JsonArray findArray(Object json, String key) {
      if (json instanceof JsonObject object) {
        if (object.getValue(key) instanceof JsonArray array) {
          return array;
        }
        for (String field : object.fieldNames()) {
          JsonArray found = findArray(object.getValue(field), key);
          if (found != null) {
            return found;
          }
        }
      }
      return null;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
          .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIGKILL: no shutdown hook, nothing flushed, leases left to expire; waits until the process is gone. */
    public void kill() throws InterruptedException {
      if (alive()) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }

    /** SIGTERM, as a process manager or `docker stop` sends it; does not wait. */
    public void terminate() {
      process.destroy();
    }

    /** Waits for the process to end after {@link #terminate()}; its exit code. */
    public int awaitExit(Duration limit) throws InterruptedException {
      assertTrue(process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS), id + " did not stop within " + limit);
      return process.exitValue();
    }

    /** The console of the node's current (last) run. */
    public List<String> console() {
      return RelayProcess.consoleLines(consoles.get(consoles.size() - 2));
    }

    void printConsoleTails() {
      RelayProcess.printTails(consoles, 25);
    }

    @Override
    public String toString() {
      return id + " (http " + httpPort + ", cluster " + clusterPort + ")";
    }
  }
}
