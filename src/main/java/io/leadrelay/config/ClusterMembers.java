package io.leadrelay.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The CLUSTER_MEMBERS list: comma-separated {@code host} or {@code host:port}, checked once, ports filled in. */
final class ClusterMembers {

  /** A host name, IPv4 address or bracketed IPv6 address, then optionally ":port". */
  private static final Pattern MEMBER = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\\d{1,5}))?");

  private ClusterMembers() {
  }

  /**
   * @param name        what to call the setting in an error
   * @param defaultPort the port of a member given without one (every node listening on the same port is the rule)
   * @return {@code host:port} per member, in the given order; empty for an empty list
   */
  static List<String> parse(String name, String list, int defaultPort) {
    List<String> members = new ArrayList<>();
    for (String entry : list.split(",")) {
      String member = entry.trim();
      if (member.isEmpty()) {
        continue;
      }
      Matcher matcher = MEMBER.matcher(member);
      int port = matcher.matches() && matcher.group(2) != null ? Integer.parseInt(matcher.group(2)) : defaultPort;
      if (!matcher.matches() || port < 1 || port > 65535) {
        throw new ConfigException(name + " must list the nodes as host or host:port, separated by commas (e.g."
            + " relay1:5701,relay2:5701), got \"" + member + "\".");
      }
      members.add(matcher.group(1) + ":" + port);
    }
    return List.copyOf(members);
  }
}
