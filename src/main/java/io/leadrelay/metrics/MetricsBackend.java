package io.leadrelay.metrics;

import io.leadrelay.config.MetricsConfig;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;

/**
 * Where every metric of one relay lives: one Prometheus registry, fed by the JVM, by Vert.x itself (HTTP server and
 * client, pools, event bus) when the Vert.x instance was built through {@link #builder}, and by
 * {@link RelayMetrics}. Disabled, it holds nothing and Vert.x is built without metrics.
 */
public final class MetricsBackend implements AutoCloseable {

  /**
   * Vert.x labels that can carry no secret and no subscriber data. Never {@code path} (a webhook URL holds its
   * secret, a Bitrix24 one its webhook code), never {@code remote} (subscribers' and portals' addresses), never
   * {@code address} (event-bus addresses name portals per node).
   */
  private static final EnumSet<Label> SAFE_LABELS = EnumSet.of(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE,
      Label.POOL_TYPE, Label.POOL_NAME, Label.EB_SIDE, Label.EB_FAILURE);

  private static final String[] UNSAFE_LABELS = EnumSet.complementOf(SAFE_LABELS).stream().map(Label::toString)
      .toArray(String[]::new);

  private static final String METHOD_LABEL = Label.HTTP_METHOD.toString();
  /** The methods of RFC 9110 and PATCH; any other one is counted as OTHER. */
  private static final Set<String> STANDARD_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
      "OPTIONS", "TRACE", "PATCH");

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;

  private MetricsBackend(PrometheusMeterRegistry registry) {
    this.registry = registry;
    if (registry == null) {
      gc = null;
      return;
    }
    // The labels Vert.x is told to leave out, dropped once more whatever a Vert.x meter adds (a client pool's name is
    // the host:port it connects to); one set of label keys per metric name, as Prometheus requires.
    registry.config().meterFilter(MeterFilter.ignoreTags(UNSAFE_LABELS));
    // Any token is a valid HTTP method to Netty, and Vert.x labels a request with the one it came with: a caller
    // making one up per request would add a time series per request. Standard methods keep their name.
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String method = id.getTag(METHOD_LABEL);
        return id.getName().startsWith("vertx.http.") && method != null && !STANDARD_METHODS.contains(method)
            ? id.replaceTags(Tags.of(id.getTagsAsIterable()).and(METHOD_LABEL, "OTHER")) : id;
      }
    });
    // A gauge per event-bus address: without the address label they would all be one gauge showing one address.
    registry.config().meterFilter(MeterFilter.denyNameStartsWith("vertx.eventbus.handlers"));
    // Bound here rather than by Vert.x, so a relay started on a Vert.x instance built elsewhere (tests) has them too.
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
  }

  public static MetricsBackend create(MetricsConfig config) {
    return new MetricsBackend(config.enabled() ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null);
  }

  public static MetricsBackend disabled() {
    return new MetricsBackend(null);
  }

  public boolean enabled() {
    return registry != null;
  }

  /** The registry, or null when disabled. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * A Vert.x builder with {@code options}, and with Vert.x's own metrics going to this registry when enabled.
   * Metrics can only be switched on when a Vert.x instance is created.
   */
  public VertxBuilder builder(VertxOptions options) {
    if (registry == null) {
      return Vertx.builder().with(options);
    }
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        // Vert.x keeps its registries in a static map by name: several relays in one JVM (tests) must not share.
        .setRegistryName("leadrelay-" + UUID.randomUUID())
        .setJvmMetricsEnabled(false)
        .setLabels(SAFE_LABELS);
    return Vertx.builder().with(options.setMetricsOptions(metrics)).withMetrics(new MicrometerMetricsFactory(registry));
  }

  /** Stops the JVM's GC listeners, which would otherwise keep this registry alive after the relay is gone. */
  @Override
  public void close() {
    if (gc != null) {
      gc.close();
    }
  }
}
