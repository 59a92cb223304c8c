package io.leadrelay.bench;

import io.leadrelay.mapping.LeadMapper;
import io.leadrelay.mapping.MappingConfig;
import io.leadrelay.mapping.PhoneNormaliser;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * What reading phones with libphonenumber costs the mapping: LeadMapper.fields per second for a typical BotHelp
 * payload whose phone is typed the Russian way, against the same payload without a phone, in one run (a ratio the
 * machine's load disturbs less than the absolute figures). Usage: bench/phones.sh [seconds per round=3].
 */
public final class PhoneMappingBenchmark {

  public static void main(String[] args) {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
    LeadMapper mapper = new LeadMapper(MappingConfig.defaults());
    JsonObject withPhone = payload().put("phone", "8 (999) 123-45-67");
    JsonObject withoutPhone = payload();
    PhoneNormaliser phones = PhoneNormaliser.russian();
    // Warm up both paths, then measure them alternately, twice each.
    rate(() -> mapper.fields(withPhone, "d-1"), 1);
    rate(() -> mapper.fields(withoutPhone, "d-1"), 1);
    for (int round = 1; round <= 2; round++) {
      double with = rate(() -> mapper.fields(withPhone, "d-1"), seconds);
      double without = rate(() -> mapper.fields(withoutPhone, "d-1"), seconds);
      double parse = rate(() -> phones.normalise("8 (999) 123-45-67"), seconds);
      System.out.printf("round %d: mapping with phone %.0f/s, without %.0f/s (ratio %.2f); normalise alone %.0f/s%n",
          round, with, without, with / without, parse);
    }
  }

  private static JsonObject payload() {
    return new JsonObject(new java.util.LinkedHashMap<>(Map.of("name", "Анна", "email", "anna@example.com", "utm_source", "vk",
        "Город", "Казань", "Тип продукта", "Чайник", "bothelp_user_id", "4242")));
  }

  private static double rate(Runnable work, double seconds) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long n = 0;
    long start = System.nanoTime();
    while (System.nanoTime() < end) {
      for (int i = 0; i < 100; i++) {
        work.run();
      }
      n += 100;
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  private PhoneMappingBenchmark() {
  }
}
