package io.leadrelay.bitrix;

import io.leadrelay.config.IntegrationConfig;
import io.leadrelay.config.OAuthApp;
import io.leadrelay.config.PortalConfig;
import io.leadrelay.store.TokenPair;
import io.leadrelay.store.TokenStore;
import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The current OAuth token pair of each OAuth portal, and the one refresh that replaces it when Bitrix24 says the
 * access token expired. Single flight: every call that hits the expiry meanwhile waits for the same refresh, so a
 * burst of 401s costs one refresh (a second one would present the already rotated refresh token and be refused).
 * The new pair is saved in the {@link TokenStore} before anyone may use it: the refresh token it replaces no longer
 * works, and a crash between using and saving it would leave nothing that does. Never refreshes on a timer.
 */
public final class PortalTokens {

  /** Gets a new pair from the OAuth server for a refresh token; fails with a classified {@link BitrixException}. */
  @FunctionalInterface
  public interface Refresher {
    Future<TokenPair> refresh(OAuthApp app, String refreshToken);
  }

  private final TokenStore store;
  /** Portal key → the integrations using it, to name the admin call that supplies tokens. */
  private final Map<String, String> integrationsByPortal = new HashMap<>();
  /** Portal key → the pair calls use now; absent: read the store first. */
  private final Map<String, TokenPair> current = new HashMap<>();
  /** Portal key → the refresh in progress, which every caller hitting the expiry joins. */
  private final Map<String, Future<TokenPair>> refreshing = new HashMap<>();

  /**
   * @param integrations the configured integrations, to name the one to send tokens for in error texts (the admin
   *                     call is per integration)
   */
  public PortalTokens(TokenStore store, Map<String, IntegrationConfig> integrations) {
    this.store = store;
    Map<String, TreeSet<String>> names = new HashMap<>();
    integrations.forEach((name, integration) -> integration.portal().map(PortalConfig::oauth).ifPresent(app ->
        names.computeIfAbsent(app.portalKey(), key -> new TreeSet<>()).add(name)));
    names.forEach((key, set) -> integrationsByPortal.put(key, set.first()));
  }

  /**
   * Seeds the store with the pair configured for an OAuth portal unless the store already has one (then the stored
   * pair is newer: it was rotated or sent through the admin API). Nothing for a webhook portal or one configured
   * without a refresh token.
   */
  public static Future<Void> seed(TokenStore store, PortalConfig portal) {
    OAuthApp app = portal.oauth();
    if (app == null || app.refreshToken() == null) {
      return Future.succeededFuture();
    }
    return store.loadTokens(app.portalKey()).compose(stored -> stored.isPresent() ? Future.succeededFuture()
        : store.saveTokens(app.portalKey(), new TokenPair(app.accessToken(), app.refreshToken(), null)));
  }

  /**
   * The pair to call the portal with: the one in use, else the store's (seeded from configuration when empty).
   * Fails as {@link ErrorClass#PORTAL_FAILURE} when there is none: a person has to send one.
   */
  public Future<TokenPair> current(PortalConfig portal) {
    String key = portal.oauth().portalKey();
    synchronized (this) {
      TokenPair known = current.get(key);
      if (known != null) {
        return Future.succeededFuture(known);
      }
    }
    return seed(store, portal)
        .compose(v -> store.loadTokens(key))
        .recover(failure -> Future.failedFuture(storeFailure(failure)))
        .compose(stored -> {
          if (stored.isEmpty()) {
            return Future.failedFuture(new BitrixException(new BitrixError(ErrorClass.PORTAL_FAILURE, null, null,
                "no OAuth tokens yet: send them with POST /admin/portals/" + integration(key) + "/tokens")));
          }
          synchronized (this) {
            return Future.succeededFuture(current.computeIfAbsent(key, k -> stored.get()));
          }
        });
  }

  /**
   * The pair to repeat a call with after the portal answered expired_token to {@code used}. If another caller has
   * already replaced {@code used}, that pair; if a refresh is running, its outcome; otherwise a new refresh, unless
   * the store holds a different access token meanwhile (sent through the admin API), which is tried first.
   */
  public Future<TokenPair> afterExpired(PortalConfig portal, TokenPair used, Refresher refresher) {
    OAuthApp app = portal.oauth();
    String key = app.portalKey();
    synchronized (this) {
      TokenPair known = current.get(key);
      if (known != null && known.accessToken() != null && !known.accessToken().equals(used.accessToken())) {
        return Future.succeededFuture(known);
      }
      Future<TokenPair> running = refreshing.get(key);
      if (running != null) {
        return running;
      }
      Future<TokenPair> refresh = store.loadTokens(key)
          .recover(failure -> Future.failedFuture(storeFailure(failure)))
          .compose(stored -> {
            Optional<TokenPair> newer = stored.filter(pair -> pair.accessToken() != null
                && !pair.accessToken().equals(used.accessToken()));
            if (newer.isPresent()) {
              return Future.succeededFuture(newer.get());
            }
            String refreshToken = stored.map(TokenPair::refreshToken).orElse(used.refreshToken());
            return refresher.refresh(app, refreshToken).compose(fresh -> store.saveTokens(key, fresh)
                // Not saved: the rotated token must not be used, or a restart would find only the dead one.
                .recover(failure -> Future.failedFuture(storeFailure(failure)))
                .map(fresh));
          });
      refreshing.put(key, refresh);
      refresh.onComplete(ar -> {
        synchronized (this) {
          refreshing.remove(key);
          if (ar.succeeded()) {
            current.put(key, ar.result());
          } else {
            // Read the store again next time: the fix (a new pair through the admin API) arrives there.
            current.remove(key);
          }
        }
      });
      return refresh;
    }
  }

  /** The text of an error about this portal's tokens: which admin call fixes it. */
  String adminCall(PortalConfig portal) {
    return "POST /admin/portals/" + integration(portal.oauth().portalKey()) + "/tokens";
  }

  private String integration(String key) {
    return integrationsByPortal.getOrDefault(key, "{integration}");
  }

  private static BitrixException storeFailure(Throwable failure) {
    // Nothing was sent: the call can be made again once the store answers.
    return new BitrixException(new BitrixError(ErrorClass.REFUSED, null, null,
        "the OAuth tokens could not be read or saved in the delivery store (" + failure.getClass().getSimpleName()
            + ")"));
  }
}
