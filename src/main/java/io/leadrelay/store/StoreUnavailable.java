package io.leadrelay.store;

/**
 * The shared database could not be reached, dropped the connection, or did not answer in time: a failure of the
 * way to the store, not of what was asked. Whatever the call was about is unknown to have happened (an accept that
 * was still waiting for a connection was not stored; one whose commit was under way may have been), and the same
 * call may succeed once the database is back. The store says once that it is lost and once that it is back
 * ({@link PgAvailability}), so callers need not log each such failure. No stack trace: it is an expected state.
 */
public final class StoreUnavailable extends RuntimeException {

  /** True when the call only waited too long (see {@link #waited}); the database may be busy, not gone. */
  private final boolean waitedOnly;

  public StoreUnavailable(String message) {
    this(message, null);
  }

  private StoreUnavailable(String message, boolean waitedOnly) {
    super(message, null, false, false);
    this.waitedOnly = waitedOnly;
  }

  /** A call given up because it waited too long (queued past its sender's deadline): nothing was refused. */
  public static StoreUnavailable waited(String message) {
    return new StoreUnavailable(message, true);
  }

  public boolean waitedOnly() {
    return waitedOnly;
  }

  public StoreUnavailable(String message, Throwable cause) {
    super(message, cause, false, false);
    this.waitedOnly = false;
  }

  /** Whether {@code failure} (or what it wraps) is this: the store, not the request, failed. */
  public static boolean is(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof StoreUnavailable) {
        return true;
      }
    }
    return false;
  }
}
