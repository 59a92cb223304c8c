package io.leadrelay.bitrix;

import io.leadrelay.mapping.LeadCommand;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The leads waiting for one portal and the one place that decides when they go out: oldest webhook first, at most
 * {@code maxInFlight} requests open at once, each request only when the {@link Gate} lets it through (the portal's
 * request budget, its operating time, a hold after a refusal), and several waiting leads packed into one request
 * (a Bitrix24 {@code batch}) of up to {@code maxBatch}. A lone lead goes out at once on its own: nothing waits for a
 * batch to fill. Leads that may already exist in Bitrix24 ({@link LeadCommand#uncertain()}) go in groups of their
 * own: they are looked up (one request for the whole group) before the missing ones are added (one more).
 * Not thread-safe: used from the owning verticle's event loop only.
 *
 * @param <R> what a sent lead yields (its Bitrix24 id, and whether it was found rather than created)
 */
public final class PortalQueue<R> {

  /** Sends one request for these leads (one lead, or a batch) and yields one outcome per lead, in their order. */
  public interface Sender<R> {
    List<Future<R>> send(List<LeadCommand> leads);
  }

  /**
   * Whether {@code requests} HTTP requests for the {@code leads} leads ready, the first of which has waited
   * {@code waited}, may go now, carrying how many of them (the request is then counted), or how long to wait before
   * asking again.
   */
  public interface Gate {
    BatchPlan open(java.time.Instant now, int requests, int leads, Duration waited);

    Gate ALWAYS_OPEN = (now, requests, leads, waited) -> BatchPlan.send(leads);
  }

  /** Runs a task after a delay (Vert.x's timer in production, a manual clock in tests). */
  public interface Timer {
    void schedule(long delayMillis, Runnable task);
  }

  private record Waiting<R>(LeadCommand command, Promise<R> promise, java.time.Instant since, boolean alone,
                            long order) {
  }

  /** Oldest webhook first; of two received at the same instant, the one submitted first. */
  private static final java.util.Comparator<Waiting<?>> OLDEST_FIRST = java.util.Comparator
      .<Waiting<?>, java.time.Instant>comparing(w -> w.command().receivedAt() != null ? w.command().receivedAt()
          : w.since())
      .thenComparingLong(Waiting::order);

  private final int maxInFlight;
  private final int maxBatch;
  private final Gate gate;
  private final Sender<R> sender;
  private final Timer timer;
  private final Clock clock;
  /** Leads that may not share a request (a batch would change or drop their values): decided once, on submit. */
  private final java.util.function.Predicate<LeadCommand> alone;
  /**
   * Sorted, not a deque: the store may hand back thousands of old leads while fresh ones keep arriving, and each
   * would otherwise walk past every younger one to its place.
   */
  private final java.util.TreeSet<Waiting<R>> waiting = new java.util.TreeSet<>(OLDEST_FIRST);
  private long submitted;
  /** Leads of one kind share a request; the requests a request for a kind of lead may need, at most. */
  private java.util.function.Function<LeadCommand, Object> kind = LeadCommand::uncertain;
  private java.util.function.ToIntFunction<LeadCommand> requests = command -> command.uncertain() ? 2 : 1;
  private int inFlight;
  private boolean dispatching;
  private boolean timerSet;

  public PortalQueue(int maxInFlight, int maxBatch, Gate gate, Sender<R> sender, Timer timer, Clock clock) {
    this(maxInFlight, maxBatch, gate, sender, timer, clock, command -> false);
  }

  /** As above; a lead for which {@code alone} holds always goes in a request of its own. */
  public PortalQueue(int maxInFlight, int maxBatch, Gate gate, Sender<R> sender, Timer timer, Clock clock,
                     java.util.function.Predicate<LeadCommand> alone) {
    if (maxInFlight < 1 || maxBatch < 1) {
      throw new IllegalArgumentException("maxInFlight and maxBatch must be at least 1");
    }
    this.maxInFlight = maxInFlight;
    this.maxBatch = maxBatch;
    this.gate = gate;
    this.sender = sender;
    this.timer = timer;
    this.clock = clock;
    this.alone = alone;
  }

  /**
   * Which leads may share a request ({@code kind}: equal kinds) and how many requests the gate counts for one whose
   * head is a given lead: by default certain and uncertain leads apart, an uncertain group two (look-up, add).
   */
  public PortalQueue<R> grouping(java.util.function.Function<LeadCommand, Object> kind,
                                 java.util.function.ToIntFunction<LeadCommand> requests) {
    this.kind = kind;
    this.requests = requests;
    return this;
  }

  /**
   * Queues a lead behind every lead received before it; the future completes with its outcome once it has had its
   * turn. Oldest webhook first, not first submitted: after a takeover the dead owner's leads come back from the store
   * while the other nodes keep handing over fresh ones, and at a broadcast's rate they would otherwise wait behind
   * everything that arrived since (measured: 7.8 s after the takeover instead of about 2).
   */
  public Future<R> submit(LeadCommand command) {
    Promise<R> promise = Promise.promise();
    waiting.add(new Waiting<>(command, promise, clock.instant(), alone.test(command), submitted++));
    dispatch();
    return promise.future();
  }

  /**
   * Gives up every lead still waiting (not those in flight): each fails with {@code cause}. For a sender that must
   * stop at once; the leads stay in the store, so nothing is lost.
   */
  public void abandon(Throwable cause) {
    List<Waiting<R>> dropped = new ArrayList<>(waiting);
    waiting.clear();
    dropped.forEach(w -> w.promise().tryFail(cause));
  }

  /** Up to {@code max} of the leads waiting, first in line first (a sender may prepare their requests early). */
  public List<LeadCommand> upcoming(int max) {
    List<LeadCommand> upcoming = new ArrayList<>(Math.min(max, waiting.size()));
    for (Waiting<R> next : waiting) {
      if (upcoming.size() == max) {
        break;
      }
      upcoming.add(next.command());
    }
    return upcoming;
  }

  /** Leads waiting for their turn. */
  public int queued() {
    return waiting.size();
  }

  /** Requests sent and not answered yet. */
  public int inFlight() {
    return inFlight;
  }

  private void dispatch() {
    // A sender that completes at once re-enters here from its own completion; the flag turns that recursion
    // into this loop, so a long queue of instant failures cannot overflow the stack.
    if (dispatching) {
      return;
    }
    dispatching = true;
    try {
      while (inFlight < maxInFlight && !waiting.isEmpty() && !timerSet) {
        int ready = nextRequestSize();
        java.time.Instant now = clock.instant();
        Waiting<R> head = waiting.first();
        BatchPlan plan = gate.open(now, requests.applyAsInt(head.command()), ready,
            Duration.between(head.since(), now));
        if (plan instanceof BatchPlan.Wait wait) {
          timerSet = true;
          timer.schedule(Math.max(1, wait.delay().toMillis()), () -> {
            timerSet = false;
            dispatch();
          });
          return;
        }
        int size = Math.min(ready, ((BatchPlan.Send) plan).leads());
        List<Waiting<R>> batch = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          batch.add(waiting.pollFirst());
        }
        send(batch);
      }
    } finally {
      dispatching = false;
    }
  }

  /**
   * How many leads from the head go in the next request: those like the head (certain or not), up to a batch; a
   * lead that must go alone, alone.
   */
  private int nextRequestSize() {
    if (waiting.first().alone()) {
      return 1;
    }
    Object headKind = kind.apply(waiting.first().command());
    int size = 0;
    for (Waiting<R> next : waiting) {
      if (size == maxBatch || !kind.apply(next.command()).equals(headKind) || next.alone()) {
        break;
      }
      size++;
    }
    return size;
  }

  private void send(List<Waiting<R>> batch) {
    inFlight++;
    List<Future<R>> outcomes;
    try {
      outcomes = sender.send(batch.stream().map(Waiting::command).toList());
      if (outcomes == null || outcomes.size() != batch.size()) {
        throw new IllegalStateException("the sender must yield one outcome per lead");
      }
    } catch (RuntimeException e) {
      outcomes = batch.stream().map(w -> Future.<R>failedFuture(e)).toList();
    }
    for (int i = 0; i < batch.size(); i++) {
      outcomes.get(i).onComplete(batch.get(i).promise());
    }
    Future.join(new ArrayList<>(outcomes)).onComplete(done -> {
      inFlight--;
      dispatch();
    });
  }
}
