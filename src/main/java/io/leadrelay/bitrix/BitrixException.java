package io.leadrelay.bitrix;

/**
 * A failed Bitrix24 call, carrying its classified {@link BitrixError}. The message is built from the (already
 * redacted) error only, so it is safe to log.
 */
public class BitrixException extends RuntimeException {

  private final BitrixError error;

  public BitrixException(BitrixError error) {
    super(error.errorClass() + ": " + error.summary(), null, false, false);
    this.error = error;
  }

  public BitrixError error() {
    return error;
  }
}
