package io.leadrelay.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrustedProxiesTest {

  private final TrustedProxies proxies = TrustedProxies.parse("TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12, ::1");

  @Test
  void aConnectionFromAnUntrustedAddressIsTheClientWhateverItsHeaderSays() {
    assertEquals("203.0.113.9", proxies.clientAddress("203.0.113.9", List.of("1.2.3.4")));
  }

  @Test
  void aTrustedProxyIsBelievedForTheAddressItSaw() {
    assertEquals("198.51.100.7", proxies.clientAddress("10.0.0.5", List.of("198.51.100.7")));
    assertEquals("198.51.100.7", proxies.clientAddress("0:0:0:0:0:0:0:1", List.of("198.51.100.7")));
  }

  @Test
  void anAddressTheClientPrependedIsNotBelieved() {
    // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
    assertEquals("198.51.100.7", proxies.clientAddress("10.0.0.5", List.of("6.6.6.6, 198.51.100.7")));
  }

  @Test
  void aChainOfTrustedProxiesIsFollowedToTheFirstUntrustedHop() {
    assertEquals("198.51.100.7", proxies.clientAddress("10.0.0.5",
        List.of("6.6.6.6, 198.51.100.7", "172.20.1.1")));
  }

  @Test
  void garbageEndsTheChainAtTheLastAddressAProxyVouchedFor() {
    assertEquals("172.20.1.1", proxies.clientAddress("10.0.0.5", List.of("<script>, 172.20.1.1")));
    assertEquals("10.0.0.5", proxies.clientAddress("10.0.0.5", List.of("unknown")));
    assertEquals("10.0.0.5", proxies.clientAddress("10.0.0.5", List.of()));
  }

  @Test
  void noneTrustsNobody() {
    assertTrue(TrustedProxies.parse("TRUSTED_PROXIES", " ").isEmpty());
    assertEquals("10.0.0.5", TrustedProxies.NONE.clientAddress("10.0.0.5", List.of("198.51.100.7")));
  }

  @Test
  void aHostNameOrABadRangeStopsStartUpWithOneSentence() {
    for (String bad : List.of("proxy.local", "10.0.0.0/33", "10.0.0.0/x", "::1/129")) {
      ConfigException e = assertThrows(ConfigException.class, () -> TrustedProxies.parse("TRUSTED_PROXIES", bad));
      assertEquals("TRUSTED_PROXIES must list IP addresses or CIDR ranges separated by commas (e.g. \"10.0.0.5,"
          + " 172.16.0.0/12\"), got \"" + bad + "\".", e.getMessage());
    }
  }
}
