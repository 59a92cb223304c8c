package io.leadrelay.store;

/**
 * The shared database could not be reached, dropped the connection, or did not answer in time: a failure of the
 * way to the store, not of what was asked. Whatever the call was about is unknown to have happened (an accept that
 * was still waiting for a connection was not stored; one whose commit was under way may have been), and the same
 * call may succeed once the database is back. The store says once that it is lost and once that it is back
 * ({@link PgAvailability}), so callers need not log each such failure. No stack trace: it is an expected state.
 */
public final class StoreUnavailable extends RuntimeException {

  public StoreUnavailable(String message) {
    super(message, null, false, false);
  }

  public StoreUnavailable(String message, Throwable cause) {
    super(message, cause, false, false);
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
