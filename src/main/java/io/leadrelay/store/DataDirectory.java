package io.leadrelay.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The relay's claim on its DATA_DIR, held for the life of the process. Two relays on one store would each take the
 * other's in-flight deliveries for lost ones and send them again: an OS lock on {@code leadrelay.lock} (which holds
 * the owner's PID, for the refusal message) makes a second start refuse instead. The lock is the operating
 * system's, so it ends with the process however the process ends, and a stale file never blocks a start.
 *
 * <p>It also keeps the {@code leadrelay.running} marker: written once the store is open, removed after a clean close.
 * A marker left behind means the last run stopped uncleanly, so its write-ahead log holds committed webhooks; if that
 * log is now missing, they are gone, and starting would silently serve a store without them.
 *
 * <p>The command line does not claim the directory: it opens the store beside the running relay, as SQLite allows.
 * Blocking file I/O: call it off the event loop.
 */
public final class DataDirectory {

  public static final String LOCK_FILE = "leadrelay.lock";
  public static final String RUNNING_MARKER = "leadrelay.running";

  /**
   * Directories this process holds. Checked before the lock file is opened at all: on Linux, closing any descriptor
   * of a file drops every lock the process has on it, so a second look from inside this JVM would free the first.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** A copy of SQLite's library this old belongs to no process still starting (see SqliteNative). */
  private static final Duration NATIVE_LEFTOVER_AGE = Duration.ofMinutes(1);

  private final Path directory;
  /** The lock held now; replaced when the lock file had been deleted and is made again (writer thread only). */
  private volatile FileChannel channel;
  private volatile FileLock lock;
  private volatile Object lockFileKey;

  private DataDirectory(Path directory, FileChannel channel, FileLock lock) {
    this.directory = directory;
    this.channel = channel;
    this.lock = lock;
    this.lockFileKey = fileKey(directory.resolve(LOCK_FILE));
  }

  /**
   * Creates the directory if needed (0700), takes its lock and checks that the last run left nothing missing. Throws
   * a StoreRefusal with one sentence for the operator when another relay holds the directory or when the
   * store's write-ahead log went missing after an unclean stop.
   */
  public static DataDirectory claim(Path dataDir, Path dbFile) {
    Path directory = created(dataDir);
    if (!HELD.add(directory)) {
      throw inUse(directory, String.valueOf(ProcessHandle.current().pid()));
    }
    return lock(directory, dbFile);
  }

  /**
   * For the command line: claims the directory if no relay holds it, else empty (the relay runs; the command opens
   * the store beside it). Claimed, the command is the store's only user, and its clean close checkpoints the log as
   * a relay's would; releasing it cleanly then removes a marker a crashed relay left, which is true from then on.
   * Without this a command run after a crash would delete the log on close and make the next start refuse.
   */
  public static Optional<DataDirectory> claimIfFree(Path dataDir, Path dbFile) {
    Path directory = created(dataDir);
    if (!HELD.add(directory)) {
      return Optional.empty();
    }
    try {
      return Optional.of(lock(directory, dbFile));
    } catch (InUse held) {
      return Optional.empty();
    }
  }

  /**
   * The directory, created if needed, by its real path: two spellings of one directory (a symlink) must be one
   * entry in {@link #HELD}, or the second would open the lock file again and free the first's lock.
   */
  private static Path created(Path dataDir) {
    Path directory = dataDir.toAbsolutePath().normalize();
    try {
      PrivateFiles.createDirectories(directory);
      return directory.toRealPath();
    } catch (IOException e) {
      throw new StoreRefusal("DATA_DIR " + directory + " cannot be used: " + e.getClass().getSimpleName() + " "
          + e.getMessage() + ".", e);
    }
  }

  private static DataDirectory lock(Path directory, Path dbFile) {
    FileChannel channel = null;
    try {
      Path lockFile = directory.resolve(LOCK_FILE);
      if (!Files.exists(lockFile)) {
        try {
          PrivateFiles.createFile(lockFile);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
          // Another relay starting at the same moment created it; the lock below decides between us.
        }
      }
      PrivateFiles.restrict(lockFile);
      channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        String holder = readPid(channel);
        throw inUse(directory, holder);
      }
      writePid(channel);
      DataDirectory claimed = new DataDirectory(directory, channel, lock);
      claimed.checkLastRunLeftItsLog(dbFile.toAbsolutePath().normalize());
      SqliteNative.removeLeftovers(directory, NATIVE_LEFTOVER_AGE);
      return claimed;
    } catch (IOException e) {
      closeQuietly(channel);
      HELD.remove(directory);
      throw new StoreRefusal("DATA_DIR " + directory + " cannot be used: " + e.getClass().getSimpleName()
          + " " + e.getMessage() + ".", e);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      HELD.remove(directory);
      throw e;
    }
  }

  private static StoreRefusal inUse(Path directory, String pid) {
    return new InUse("DATA_DIR " + directory + " is in use by another LeadRelay"
        + (pid.isEmpty() ? "" : " (PID " + pid + ")") + ": stop it first, or give this one its own DATA_DIR,"
        + " since two relays on one store would send every lead twice.");
  }

  private void checkLastRunLeftItsLog(Path dbFile) {
    Path wal = Path.of(dbFile + "-wal");
    if (Files.exists(directory.resolve(RUNNING_MARKER)) && Files.exists(dbFile) && !Files.exists(wal)) {
      throw new StoreRefusal("The last run on " + directory + " did not stop cleanly and its write-ahead"
          + " log " + wal.getFileName() + " is missing, so webhooks it accepted may be gone from " + dbFile
          + ": restore the -wal file (or the whole DATA_DIR from a backup), or, to go on with the store as it is,"
          + " delete " + directory.resolve(RUNNING_MARKER) + " (see \"Backing up and recovering the store\" in the"
          + " README).");
    }
  }

  /**
   * Confirms that the lock this process holds is still the one a second relay would meet. Someone "cleaning up" a
   * stale-looking {@code leadrelay.lock} unlinks the file this process has locked, and a second relay would then make
   * a new one, lock it and start on the same store. A deleted lock file is made and locked again at once; one another
   * process made and locked meanwhile means the directory is no longer this relay's: it throws, so nothing more is
   * written, accepted or sent here.
   */
  void checkStillHeld() {
    Path lockFile = directory.resolve(LOCK_FILE);
    Object now = fileKey(lockFile);
    if (now != null && now.equals(lockFileKey)) {
      return;
    }
    FileChannel fresh = null;
    try {
      if (now == null) {
        PrivateFiles.createFile(lockFile);
      }
      fresh = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock freshLock = tryLock(fresh);
      if (freshLock == null) {
        throw new StoreHealth.FileGone("DATA_DIR " + directory + "'s lock file " + LOCK_FILE + " was deleted and"
            + " another LeadRelay (PID " + readPid(fresh) + ") now holds the directory: this one stops writing to"
            + " the store so that no lead is sent twice; stop one of them");
      }
      writePid(fresh);
      FileChannel old = channel;
      channel = fresh;
      lock = freshLock;
      lockFileKey = fileKey(lockFile);
      // The old descriptor's file is unlinked: closing it frees only the lock on that file.
      closeQuietly(old);
      fresh = null;
    } catch (IOException e) {
      throw new StoreHealth.FileGone("DATA_DIR " + directory + "'s lock file " + LOCK_FILE + " was deleted and"
          + " cannot be made again (" + e.getClass().getSimpleName() + "): a second relay could start on this store");
    } finally {
      closeQuietly(fresh);
    }
  }

  /** Null when another process holds it (or, as the JDK reports it, this one through another descriptor). */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return null;
    }
  }

  private static Object fileKey(Path file) {
    try {
      Object key = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      return key != null ? key : Boolean.TRUE;
    } catch (IOException e) {
      return null;
    }
  }

  /** Another process holds the directory. */
  private static final class InUse extends StoreRefusal {
    InUse(String message) {
      super(message);
    }
  }

  /** Records that the store is open: until {@link #release} with a clean close, the run counts as unclean. */
  public void markRunning() {
    Path marker = directory.resolve(RUNNING_MARKER);
    try {
      if (!Files.exists(marker)) {
        PrivateFiles.createFile(marker);
      }
      PrivateFiles.restrict(marker);
      Files.writeString(marker, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new StoreRefusal("DATA_DIR " + directory + " cannot be written: " + e.getMessage() + ".", e);
    }
  }

  /**
   * Gives the directory up. {@code cleanly}: the store was closed (its log checkpointed), so the marker goes; after
   * a failed close it stays, and the next start checks the log is still there.
   */
  public void release(boolean cleanly) {
    try {
      if (cleanly) {
        Files.deleteIfExists(directory.resolve(RUNNING_MARKER));
      }
    } catch (IOException e) {
      // The directory itself may be gone; the lock below must be released either way.
    } finally {
      try {
        lock.release();
      } catch (IOException e) {
        // The channel is closed next, which releases the lock anyway.
      }
      closeQuietly(channel);
      HELD.remove(directory);
    }
  }

  public Path path() {
    return directory;
  }

  private static String readPid(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(32);
    channel.read(buffer, 0);
    buffer.flip();
    return StandardCharsets.US_ASCII.decode(buffer).toString().trim();
  }

  private static void writePid(FileChannel channel) throws IOException {
    channel.truncate(0);
    channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
    channel.force(true);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Only closing; the first failure is the one reported.
      }
    }
  }
}
