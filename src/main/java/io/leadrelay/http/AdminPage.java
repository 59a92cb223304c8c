package io.leadrelay.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The admin page: static HTML, CSS and JavaScript from {@code src/main/resources/admin/}, served at
 * {@code /admin/} with no build step and nothing from elsewhere. The page itself needs no token (it asks for it and
 * sends it with every API call in the Authorization header, never in a cookie, so no other site can make a call
 * with it). Payload values are typed by subscribers, so the page renders them as text, and the headers forbid
 * every script but the page's own file: even a value that slipped into the HTML could not run.
 */
final class AdminPage {

  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private AdminPage() {
  }

  /** Mounted before the admin API's authentication: these paths are the page's files, not API calls. */
  static void mount(Router router) {
    // Every answer under /admin, the API's JSON and every refusal included, gets the same guard: an error text or
    // a subscriber's value in a JSON answer is never sniffed into HTML, framed or cached on the operator's disk.
    router.route("/admin*").handler(AdminPage::apiHeaders);
    StaticHandler files = StaticHandler.create("admin")
        .setDefaultContentEncoding("UTF-8")
        .setCachingEnabled(false)
        .setDirectoryListing(false)
        .setIndexPage("index.html");
    // The page's relative links need the slash. (A route for "/admin" would match "/admin/" as well.)
    router.get("/admin").handler(ctx -> {
      if ("/admin".equals(ctx.request().path())) {
        ctx.redirect("/admin/");
      } else {
        ctx.next();
      }
    });
    router.get("/admin/").handler(AdminPage::headers).handler(files);
    router.get("/admin/static/*").handler(AdminPage::headers).handler(StaticHandler.create("admin/static")
        .setDefaultContentEncoding("UTF-8").setCachingEnabled(false).setDirectoryListing(false));
  }

  private static void apiHeaders(RoutingContext ctx) {
    securityHeaders(ctx).putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    ctx.next();
  }

  private static io.vertx.core.http.HttpServerResponse securityHeaders(RoutingContext ctx) {
    return ctx.response()
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer");
  }

  private static void headers(RoutingContext ctx) {
    // The page's own files hold no data: they may be kept, as long as they are checked each time.
    securityHeaders(ctx).putHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
    ctx.next();
  }
}
