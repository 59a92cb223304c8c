package io.leadrelay.e2e;

import io.leadrelay.testing.RelayProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay's DATA_DIR as real processes see it: started with a permissive umask (000, as some containers run), a
 * second start on the same directory, the command line beside the running relay, SQLite's native library, and a
 * SIGKILL followed by a lost write-ahead log.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DataDirProcessTest {

  private final List<Process> started = new ArrayList<>();

  @TempDir
  Path dir;

  @AfterEach
  void stopChildren() {
    started.forEach(Process::destroyForcibly);
  }

  /** The relay's Main with these arguments, in a shell that sets umask 000 first; java.io.tmpdir is dir/tmp. */
  private Process start(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("sh", "-c", "umask 000 && exec \"$@\"", "sh"));
    command.addAll(RelayProcess.command("-Djava.io.tmpdir=" + dir.resolve("tmp")));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    RelayProcess.isolate(builder.environment());
    builder.environment().put("DATA_DIR", dir.resolve("data").toString());
    builder.environment().put("LOG_DIR", dir.resolve("logs").toString());
    Process process = builder.start();
    started.add(process);
    return process;
  }

  private static void awaitListening(Process relay) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(), StandardCharsets.UTF_8));
    List<String> lines = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null) {
      lines.add(line);
      if (line.contains("LeadRelay listening on")) {
        // Keep draining its console so that it never blocks on a full pipe.
        Thread drain = new Thread(() -> out.lines().forEach(ignored -> { }));
        drain.setDaemon(true);
        drain.start();
        return;
      }
    }
    throw new AssertionError("the relay stopped before listening: " + lines + " "
        + new String(relay.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  /** Runs a process that is expected to end by itself; returns its exit code and stderr. */
  private static String[] finish(Process process) throws Exception {
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the process ends by itself");
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return new String[] {String.valueOf(process.exitValue()), err};
  }

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  @Test
  void oneRelayPerDataDirPrivateFilesAndNothingLeftInTmp() throws Exception {
    Files.createDirectories(dir.resolve("tmp"));
    Process relay = start();
    awaitListening(relay);
    Path data = dir.resolve("data");

    assertEquals("rwx------", mode(data), "DATA_DIR despite umask 000");
    for (String file : List.of("leadrelay.db", "leadrelay.db-wal", "leadrelay.db-shm", "leadrelay.lock",
        "leadrelay.running", "secret-default.txt")) {
      assertEquals("rw-------", mode(data.resolve(file)), file + " despite umask 000");
    }
    try (Stream<Path> copies = Files.list(data.resolve("native"))) {
      for (Path copy : copies.toList()) {
        assertTrue(mode(copy).endsWith("------"), copy.getFileName() + " despite umask 000: " + mode(copy));
      }
    }
    try (Stream<Path> tmp = Files.list(dir.resolve("tmp"))) {
      List<Path> sqlite = tmp.filter(p -> p.getFileName().toString().contains("sqlite")).toList();
      assertTrue(sqlite.isEmpty(), "SQLite's native library is unpacked under DATA_DIR, not in tmp: " + sqlite);
    }

    String[] second = finish(start());
    assertEquals("1", second[0], second[1]);
    assertEquals("LeadRelay cannot start: DATA_DIR " + data + " is in use by another LeadRelay (PID " + relay.pid()
        + "): stop it first, or give this one its own DATA_DIR, since two relays on one store would send every lead"
        + " twice.", second[1]);

    String[] cli = finish(start("deliveries", "list"));
    assertEquals("0", cli[0], "the command line works beside the running relay: " + cli[1]);
    assertTrue(relay.isAlive());
  }

  @Test
  void aNativeDirectoryMadeUnsearchableByChmodIsMadeUsableAgain() throws Exception {
    // `chmod -R 600 data`, meant to make the files private, takes x from DATA_DIR/native: SQLite cannot load then.
    Path nativeDir = dir.resolve("data/native");
    Files.createDirectories(nativeDir);
    Files.setPosixFilePermissions(nativeDir, PosixFilePermissions.fromString("rw-------"));
    Process relay = start();
    awaitListening(relay);
    assertEquals("rwx------", mode(nativeDir));
  }

  @Test
  void aDeletedLockFileIsMadeAgainSoASecondRelayStillRefuses() throws Exception {
    Process relay = start();
    awaitListening(relay);
    Path lockFile = dir.resolve("data/leadrelay.lock");
    Files.delete(lockFile);

    // The running relay confirms its lock before every store write (its scheduler writes every second).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!Files.exists(lockFile) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.exists(lockFile), "the relay makes its deleted lock file again");
    String[] second = finish(start());

    assertEquals("1", second[0], second[1]);
    assertTrue(second[1].contains("is in use by another LeadRelay (PID " + relay.pid() + ")"), second[1]);
    assertEquals("rw-------", mode(lockFile));
    assertTrue(relay.isAlive());
  }

  @Test
  void aKilledRelayRestartsButNotOnceItsWriteAheadLogWasDeleted() throws Exception {
    Process relay = start();
    awaitListening(relay);
    relay.destroyForcibly().waitFor();
    Path data = dir.resolve("data");
    assertTrue(Files.exists(data.resolve("leadrelay.running")), "an unclean stop leaves the marker");

    // Looking at the store after a crash is fine: the command is then its only user and closes it cleanly.
    String[] cli = finish(start("deliveries", "list"));
    assertEquals("0", cli[0], cli[1]);
    Process restarted = start();
    awaitListening(restarted);
    restarted.destroyForcibly().waitFor();

    Files.delete(data.resolve("leadrelay.db-wal"));
    String[] refused = finish(start());

    assertEquals("1", refused[0], refused[1]);
    assertTrue(refused[1].startsWith("LeadRelay cannot start: The last run on " + data + " did not stop cleanly"),
        refused[1]);
    assertTrue(refused[1].contains("delete " + data.resolve("leadrelay.running")), refused[1]);
  }
}
