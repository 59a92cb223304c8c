package io.leadrelay.store;

import io.vertx.core.Future;

import java.util.Optional;

/**
 * Where an OAuth application's current token pair per portal is kept. Durable: Bitrix24 rotates the refresh token
 * on every refresh and the old one stops working, so a pair lost after a refresh means a person must re-authorise.
 */
public interface TokenStore {

  /** The pair saved last for the portal (its URL, e.g. {@code https://x.bitrix24.ru}), if any. */
  Future<Optional<TokenPair>> loadTokens(String portal);

  /** Replaces the portal's pair; completes once it is committed to disk. */
  Future<Void> saveTokens(String portal, TokenPair tokens);
}
