package io.leadrelay.bitrix;

import io.leadrelay.config.RedirectHosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedirectPolicyTest {

  private static final URI CLOUD = URI.create("https://old-name.bitrix24.ru/rest/1/code/");
  private final RedirectPolicy policy = new RedirectPolicy(RedirectHosts.parse("test", List.of("crm.example.com")));

  private String refusal(String configured, String to) {
    return policy.refusal(URI.create(configured), URI.create(configured), URI.create(to));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      // A renamed cloud portal, in any of Bitrix24's zones.
      "https://old-name.bitrix24.ru/rest/1/code/, https://new-name.bitrix24.ru/rest/1/code/",
      "https://old-name.bitrix24.ru/rest/1/code/, https://new-name.bitrix24.com.br/rest/1/code/",
      "https://a.bitrix24.de/rest/1/code/,        https://b.bitrix24.kz/rest/1/code/",
      // The configured host itself, on another path or port; an upgrade to https.
      "https://crm.self.example/rest/1/code/,     https://crm.self.example:8443/b24/rest/1/code/",
      "http://crm.self.example/rest/1/code/,      https://crm.self.example/rest/1/code/",
      // The operator allowed it.
      "https://crm.self.example/rest/1/code/,     https://CRM.example.com/rest/1/code/",
  })
  void followed(String configured, String to) {
    assertNull(refusal(configured, to));
  }

  @Test
  void aDowngradeFromHttpsIsRefusedEvenToTheSameHost() {
    String why = refusal("https://crm.self.example/rest/1/code/", "http://crm.self.example/rest/1/code/");
    assertTrue(why.startsWith("The portal redirects to http://crm.self.example, a downgrade from https"), why);
    // Once the configured URL was https, a later hop may not drop it either.
    assertTrue(policy.refusal(CLOUD, URI.create("https://new.bitrix24.ru/rest/1/code/"),
        URI.create("http://new.bitrix24.ru/rest/1/code/")).contains("downgrade"));
  }

  @ParameterizedTest
  @CsvSource({
      "https://evil.example/rest/1/code/,          evil.example",
      // Look-alikes of Bitrix24's domains are not Bitrix24's.
      "https://new.bitrix24.ru.evil.example/rest/, new.bitrix24.ru.evil.example",
      "https://evilbitrix24.ru/rest/1/code/,       evilbitrix24.ru",
      "https://bitrix24.site/rest/1/code/,         bitrix24.site",
  })
  void otherHostsAreRefusedNamingTheVariableThatAllowsThem(String to, String host) {
    String why = refusal(CLOUD.toString(), to);
    assertEquals("The portal redirects to https://" + host + ", which is neither the configured portal nor"
        + " Bitrix24's cloud: not followed, so no lead or token goes there. If that host is yours, allow it with"
        + " BITRIX_REDIRECT_HOSTS=" + host + " (bitrix.redirectHosts) or configure its URL directly.", why);
  }
}
