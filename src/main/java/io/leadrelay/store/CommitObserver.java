package io.leadrelay.store;

/** Told of every group commit of the store: how many operations it carried and how long it took. */
@FunctionalInterface
public interface CommitObserver {

  CommitObserver NONE = (operations, nanos) -> {
  };

  /** Called on the committing thread: must be quick and must not block. */
  void committed(int operations, long nanos);
}
