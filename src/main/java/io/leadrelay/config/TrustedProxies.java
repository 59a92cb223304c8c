package io.leadrelay.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The reverse proxies (addresses and CIDR ranges) whose {@code X-Forwarded-For} is believed. A client can put
 * anything in that header, so it only counts when the connection comes from a trusted proxy, and only as far back
 * as the chain of trusted proxies goes: the client is the last address before it.
 */
public final class TrustedProxies {

  /** Trusts nobody: the remote address is the connection's. */
  public static final TrustedProxies NONE = new TrustedProxies(List.of(), "");

  /** Only IP literals: a host name here would mean a DNS look-up per request. */
  private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

  private record Range(byte[] network, int prefix) {

    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int whole = prefix / 8;
      for (int i = 0; i < whole; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (address[whole] & mask) == (network[whole] & mask);
    }
  }

  private final List<Range> ranges;
  private final String text;

  private TrustedProxies(List<Range> ranges, String text) {
    this.ranges = ranges;
    this.text = text;
  }

  /**
   * Parses a comma-separated list such as {@code "10.0.0.5, 172.16.0.0/12, ::1"}; blank means none.
   *
   * @param name what the user set (the environment variable or key), for the error sentence
   */
  public static TrustedProxies parse(String name, String value) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    List<Range> ranges = new ArrayList<>();
    List<String> entries = new ArrayList<>();
    for (String raw : value.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      int slash = entry.indexOf('/');
      byte[] address = literal(slash < 0 ? entry : entry.substring(0, slash));
      int prefix = address == null ? -1 : address.length * 8;
      if (address != null && slash >= 0) {
        try {
          prefix = Integer.parseInt(entry.substring(slash + 1));
        } catch (NumberFormatException e) {
          prefix = -1;
        }
      }
      if (address == null || prefix < 0 || prefix > address.length * 8) {
        throw new ConfigException(name + " must list IP addresses or CIDR ranges separated by commas (e.g."
            + " \"10.0.0.5, 172.16.0.0/12\"), got \"" + entry + "\".");
      }
      ranges.add(new Range(address, prefix));
      entries.add(entry);
    }
    return new TrustedProxies(List.copyOf(ranges), String.join(", ", entries));
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  /**
   * The client's address: the connection's own, unless it comes from a trusted proxy; then the first address,
   * from the right of {@code X-Forwarded-For}, that is not a trusted proxy (or the last one the chain vouches for
   * when an entry is not an address).
   *
   * @param forwardedFor every X-Forwarded-For header of the request, in order (empty when there is none)
   */
  public String clientAddress(String peer, List<String> forwardedFor) {
    if (peer == null || !trusts(peer)) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    for (String header : forwardedFor) {
      for (String hop : header.split(",")) {
        if (!hop.isBlank()) {
          hops.add(hop.trim());
        }
      }
    }
    String client = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      byte[] address = literal(hops.get(i));
      if (address == null) {
        return client;
      }
      client = hops.get(i);
      if (!trusts(address)) {
        return client;
      }
    }
    return client;
  }

  private boolean trusts(String address) {
    byte[] bytes = literal(address);
    return bytes != null && trusts(bytes);
  }

  private boolean trusts(byte[] address) {
    return ranges.stream().anyMatch(range -> range.contains(address));
  }

  private static byte[] literal(String text) {
    String bare = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (bare.isEmpty() || !LITERAL.matcher(bare).matches()) {
      return null;
    }
    try {
      return InetAddress.getByName(bare).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
