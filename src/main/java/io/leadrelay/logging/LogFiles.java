package io.leadrelay.logging;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;
import ch.qos.logback.core.util.FileSize;
import io.leadrelay.config.ConfigException;
import io.leadrelay.config.LogConfig;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The three JSON-lines files (webhook.log, success.log, error.log) in one directory, each rolled daily and at a
 * maximum size; {@link LogRetention} keeps rolled files for a number of days within a total size cap.
 *
 * <p>Rolled files are not compressed: logback compresses in the background and, when a file fills up before the
 * previous one is compressed, the next rollover can pick the same index and the compressor then abandons a whole
 * file of lines. A rename is synchronous and cannot lose anything; the size cap bounds the disk used.
 *
 * <p>They live in a private logback {@link LoggerContext} built in code, not in the application's logback.xml:
 * the files are data, not diagnostics, and several relays (in tests) may run in one JVM, each with its own
 * directory. Writes go through an asynchronous appender so a caller only waits for a slow disk when the queue is
 * full. A line is written whole or not at all ({@link WholeLineFileAppender}); one that cannot be written (a full
 * disk) is counted, never glued to the next.
 */
public final class LogFiles implements AutoCloseable {

  /** One of the three logs. */
  public enum Kind {
    WEBHOOK("webhook"), SUCCESS("success"), ERROR("error");

    private final String baseName;

    Kind(String baseName) {
      this.baseName = baseName;
    }

    public String fileName() {
      return baseName + ".log";
    }
  }

  static final int QUEUE_SIZE = 8192;
  // How long close() waits for the queues to drain: long enough for a full queue on a slow disk, short enough
  // that a hung disk cannot hold a shutdown forever.
  static final int MAX_FLUSH_MS = 10_000;
  static final int CLEANUP_WAIT_SECONDS = 30;
  /** LOG_DIR when the relay creates it: owner all, group (a log shipper) reads, nobody else. */
  static final Set<PosixFilePermission> DIR_PERMISSIONS = PosixFilePermissions.fromString("rwxr-x---");

  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(LogFiles.class);

  private final Path dir;
  private final LoggerContext context;
  private final Map<Kind, Logger> loggers;
  private final Map<Kind, AsyncAppender> queues;
  private final Map<Kind, RollingFileAppender<ILoggingEvent>> files;
  private final LineDrops drops;

  private LogFiles(Path dir, LoggerContext context, Map<Kind, Logger> loggers, Map<Kind, AsyncAppender> queues,
                   Map<Kind, RollingFileAppender<ILoggingEvent>> files, LineDrops drops) {
    this.drops = drops;
    this.dir = dir;
    this.context = context;
    this.loggers = loggers;
    this.queues = queues;
    this.files = files;
  }

  /**
   * Creates the directory and opens the three files. Blocks on the file system: call it from a worker.
   *
   * @throws ConfigException if a size in the configuration is not valid
   * @throws IllegalStateException if the directory or a file in it cannot be created or opened
   */
  public static LogFiles open(LogConfig config) {
    return open(config, LineOutput::open);
  }

  /** As {@link #open(LogConfig)}, with the files opened by {@code opener} (tests: a disk that fills up). */
  static LogFiles open(LogConfig config, WholeLineFileAppender.Opener opener) {
    FileSize maxFileSize = size("logs.maxFileSize", config.maxFileSize());
    FileSize totalSizeCap = size("logs.totalSizeCap", config.totalSizeCap());
    if (totalSizeCap.getSize() < maxFileSize.getSize()) {
      throw new ConfigException("logs.totalSizeCap (" + config.totalSizeCap() + ") must be at least "
          + "logs.maxFileSize (" + config.maxFileSize() + "), or no rolled file could be kept.");
    }
    if (config.maxDays() < 0) {
      throw new ConfigException("logs.maxDays must be 0 or more, not " + config.maxDays() + ".");
    }
    Path dir = config.dir().toAbsolutePath().normalize();
    try {
      createPrivately(dir);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("Cannot create the log directory " + dir + ": " + describe(e), e);
    }

    LoggerContext context = new LoggerContext();
    context.setName("leadrelay-logs:" + dir);
    // A private context has no MDC adapter; the async appender reads the MDC of every event and would fail.
    context.setMDCAdapter(new LogbackMDCAdapter());
    context.start();

    Map<Kind, Logger> loggers = new EnumMap<>(Kind.class);
    Map<Kind, AsyncAppender> queues = new EnumMap<>(Kind.class);
    Map<Kind, RollingFileAppender<ILoggingEvent>> files = new EnumMap<>(Kind.class);
    LineDrops drops = new LineDrops(dir);
    for (Kind kind : Kind.values()) {
      RollingFileAppender<ILoggingEvent> file = rollingFile(context, dir, kind, maxFileSize, drops, opener);
      AsyncAppender async = new AsyncAppender();
      async.setContext(context);
      async.setName(kind.baseName + "-async");
      async.setQueueSize(QUEUE_SIZE);
      async.setDiscardingThreshold(0);
      async.setNeverBlock(false);
      async.setMaxFlushTime(MAX_FLUSH_MS);
      async.addAppender(file);
      async.start();

      Logger logger = context.getLogger("leadrelay." + kind.baseName);
      logger.setAdditive(false);
      logger.setLevel(Level.INFO);
      logger.addAppender(async);
      loggers.put(kind, logger);
      queues.put(kind, async);
      files.put(kind, file);
    }

    // Logback reports problems (a file it cannot open, a bad pattern) as status messages, not exceptions.
    String errors = context.getStatusManager().getCopyOfStatusList().stream()
        .filter(status -> status.getEffectiveLevel() >= Status.ERROR)
        .map(LogFiles::describe)
        .collect(Collectors.joining("; "));
    boolean allOpen = files.values().stream().allMatch(RollingFileAppender::isStarted);
    if (!errors.isEmpty() || !allOpen) {
      context.stop();
      throw new IllegalStateException("Cannot write the logs in " + dir + ": "
          + (errors.isEmpty() ? "a log file could not be opened" : errors));
    }
    // From now on (a failed rollover, a full disk) problems go to the console instead of passing unnoticed.
    // An InterruptedException is an artefact of close(): the async appender interrupts its worker on stop.
    context.getStatusManager().add((StatusListener) status -> {
      if (status.getEffectiveLevel() >= Status.WARN && !(status.getThrowable() instanceof InterruptedException)) {
        LOG.warn("Log files in {}: {}", dir, describe(status));
      }
    });
    return new LogFiles(dir, context, loggers, queues, files, drops);
  }

  /**
   * Creates the directory 0750 whatever the umask (missing parents as the umask has it): the lines carry personal
   * data. A directory that already exists keeps the permissions its owner gave it.
   */
  private static void createPrivately(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      return; // made meanwhile by someone else: theirs to set
    }
    try {
      Files.setPosixFilePermissions(dir, DIR_PERMISSIONS);
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: its own access rules apply.
    }
  }

  /** Queues one line (without its newline) for the given file; blocks only while that file's queue is full. */
  public void append(Kind kind, String line) {
    loggers.get(kind).info(line);
  }

  /** The absolute directory the files are in. */
  public Path dir() {
    return dir;
  }

  /** Lines that could not be written (and are lost) since the files were opened. */
  public int queued(Kind kind) {
    return queues.get(kind).getNumberOfElementsInQueue();
  }

  public long droppedLines() {
    return drops.total();
  }

  /** True while lines are being dropped: the last attempt to write one failed. */
  public boolean dropping() {
    return drops.dropping();
  }

  /** The exception class of the last failed write, or null. */
  public String lastWriteError() {
    return drops.lastError();
  }

  /** Why the logs cannot be written right now, or empty if they can. */
  public Optional<String> problem() {
    if (!Files.isDirectory(dir)) {
      return Optional.of("the log directory " + dir + " does not exist");
    }
    if (!Files.isWritable(dir)) {
      return Optional.of("the log directory " + dir + " is not writable");
    }
    return files.entrySet().stream()
        .filter(e -> !e.getValue().isStarted())
        .map(e -> e.getKey().fileName() + " in " + dir + " is not open")
        .findFirst();
  }

  /**
   * Writes out every queued line, finishes any clean-up of old files in progress and closes the files. Blocks until
   * done (bounded by the flush and clean-up time limits). Lines appended after close are not written.
   */
  @Override
  public void close() {
    // Done step by step because LoggerContext.stop() alone drains nothing: it shuts its executor down with
    // shutdownNow and returns at once.
    for (Kind kind : Kind.values()) {
      AsyncAppender queue = queues.get(kind);
      loggers.get(kind).detachAppender(queue);
      queue.stop(); // drains the queue into the file, then closes the file
    }
    ExecutorService background = context.getExecutorService(); // clean-up of old files
    background.shutdown();
    try {
      if (!background.awaitTermination(CLEANUP_WAIT_SECONDS, TimeUnit.SECONDS)) {
        LOG.warn("Log files in {}: old files were still being deleted after {} s.", dir, CLEANUP_WAIT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    context.stop();
  }

  private static RollingFileAppender<ILoggingEvent> rollingFile(LoggerContext context, Path dir, Kind kind,
                                                                 FileSize maxFileSize, LineDrops drops,
                                                                 WholeLineFileAppender.Opener opener) {
    RollingFileAppender<ILoggingEvent> file = new WholeLineFileAppender<>(drops, opener);
    file.setContext(context);
    file.setName(kind.baseName);
    file.setFile(dir.resolve(kind.fileName()).toString());
    file.setAppend(true);

    SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
    policy.setContext(context);
    policy.setParent(file);
    policy.setFileNamePattern(dir.resolve(kind.baseName + ".%d{yyyy-MM-dd}.%i.log").toString());
    policy.setMaxFileSize(maxFileSize);
    // No maxHistory / totalSizeCap here: LogRetention applies them (logback's clean-up deleted same-day files
    // when files rolled faster than it ran).
    policy.start();
    file.setRollingPolicy(policy);

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    file.setEncoder(encoder);

    file.start();
    return file;
  }

  private static FileSize size(String key, String value) {
    FileSize size;
    try {
      size = FileSize.valueOf(value == null ? "" : value.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + " must be a size such as \"50MB\" (a number with KB, MB or GB), not \""
          + value + "\".");
    }
    if (size.getSize() <= 0) {
      throw new ConfigException(key + " must be more than zero, not \"" + value + "\".");
    }
    return size;
  }

  private static String describe(Status status) {
    Throwable cause = status.getThrowable();
    return cause == null ? status.getMessage() : status.getMessage() + " (" + describe(cause) + ")";
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}
