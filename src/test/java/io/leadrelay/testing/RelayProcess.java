package io.leadrelay.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The relay's Main as a child process on the test classpath, for tests that need a real process (exit codes,
 * signals, umask, heap limits). Test code only.
 */
public final class RelayProcess {

  private RelayProcess() {
  }

  /**
   * {@code java [jvmOptions] -cp <test classpath> io.leadrelay.Main}, with the main logback.xml rather than the tests'
   * quiet one: the console lines are what these tests read.
   */
  public static List<String> command(String... jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=logback.xml",
        "io.leadrelay.Main"));
    return command;
  }

  /**
   * Drops every setting the developer's shell may carry into the child (so a test sees only what it sets) and binds
   * the relay to a free port on loopback.
   */
  public static void isolate(Map<String, String> env) {
    env.keySet().removeIf(k -> k.startsWith("HTTP_") || k.startsWith("BITRIX_") || k.startsWith("BOTHELP_")
        || k.startsWith("LOG_") || k.equals("DATA_DIR") || k.equals("CONFIG_PATH") || k.equals("ADMIN_TOKEN"));
    env.put("HTTP_PORT", "0");
    env.put("HTTP_HOST", "127.0.0.1");
  }

  /** A child's console file as lines; none yet when it does not exist, one line saying why when unreadable. */
  public static List<String> consoleLines(Path console) {
    try {
      return Files.exists(console) ? Files.readAllLines(console, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      return List.of("(unreadable: " + e + ")");
    }
  }

  /** The last {@code count} lines of each console, for a failing test's output. */
  public static void printTails(List<Path> consoles, int count) {
    for (Path console : consoles) {
      List<String> lines = consoleLines(console);
      System.out.println("--- " + console.getFileName() + " (last " + count + " of " + lines.size() + " lines)");
      lines.subList(Math.max(0, lines.size() - count), lines.size()).forEach(System.out::println);
    }
  }

  /** {@link #command} run in {@code dir}, its environment {@linkplain #isolate isolated}. */
  public static ProcessBuilder builder(Path dir, String... jvmOptions) {
    ProcessBuilder builder = new ProcessBuilder(command(jvmOptions)).directory(dir.toFile());
    isolate(builder.environment());
    return builder;
  }
}
