package io.leadrelay.bitrix;

import java.time.Instant;

/** What became of one lead handed to a portal's sending loop. */
sealed interface SendOutcome {

  /**
   * The lead exists: created now, or found from an earlier attempt ({@code found}). {@code action} is what was done,
   * for the delivery's history: "created" or "found", or under a repeat policy "commented" (the id is the existing
   * lead's), "commented-contact" (the contact's), "updated" or "linked".
   */
  record Sent(long leadId, boolean found, String action) implements SendOutcome {

    Sent(long leadId, boolean found) {
      this(leadId, found, found ? "found" : "created");
    }
  }

  /** Nothing was sent: the portal was held after a refusal, or paused; try again at {@code until}. */
  record Held(Instant until) implements SendOutcome {
  }

  /** The attempt failed with this Bitrix24 error (classified and redacted). */
  record Failed(BitrixError error) implements SendOutcome {
  }

  /** Nothing more is done here: this node no longer owns the portal, and the new owner drives the lead. */
  record NotOwner() implements SendOutcome {
  }
}
