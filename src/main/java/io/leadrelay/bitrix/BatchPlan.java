package io.leadrelay.bitrix;

import java.time.Duration;

/** What the next request to a portal does: go now carrying up to so many leads, or wait and ask again. */
public sealed interface BatchPlan {

  /** Send now, with at most {@code leads} of the leads ready (at least one). */
  record Send(int leads) implements BatchPlan {
    public Send {
      if (leads < 1) {
        throw new IllegalArgumentException("a request carries at least one lead");
      }
    }
  }

  /** Send nothing yet; ask again after {@code delay}. */
  record Wait(Duration delay) implements BatchPlan {
  }

  static BatchPlan send(int leads) {
    return new Send(leads);
  }

  static BatchPlan waitFor(Duration delay) {
    return new Wait(delay);
  }
}
