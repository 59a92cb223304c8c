package io.leadrelay.store;

/**
 * The store or its DATA_DIR cannot be used, said in one sentence for the operator (what is wrong, where, and what
 * to run): start-up prints the message as it is, without an exception's class name.
 */
public class StoreRefusal extends IllegalStateException {

  public StoreRefusal(String message) {
    super(message);
  }

  public StoreRefusal(String message, Throwable cause) {
    super(message, cause);
  }
}
