package io.leadrelay.ops;

import java.time.Duration;

/** Durations as a person reads them in an alert: "45 s", "12 min", "3 h 5 min". */
public final class Durations {

  private Durations() {
  }

  public static String words(Duration duration) {
    long seconds = Math.max(0, duration.toSeconds());
    if (seconds < 120) {
      return seconds + " s";
    }
    long minutes = seconds / 60;
    if (minutes < 120) {
      return minutes + " min";
    }
    long hours = minutes / 60;
    return minutes % 60 == 0 ? hours + " h" : hours + " h " + minutes % 60 + " min";
  }
}
