package io.leadrelay.bitrix;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer of a Bitrix24 {@code batch} call, read command by command (reference: bitrix24-rest.md §5). The call
 * answers 200 even when commands failed, so success or failure is decided here for each command on its own:
 * a value in {@code result} is a success, an entry in {@code result_error} a failure classified as if the command
 * had been called alone, and a command in neither has an unknown outcome ({@link ErrorClass#AMBIGUOUS}).
 *
 * <p>The answer comes from PHP, which writes an empty section as {@code []} rather than {@code {}}, and a section
 * whose keys happen to be 0, 1, 2, ... as a list: every section is read as "object, or array by index".
 * Pure: no I/O.
 */
public final class BatchResult {

  /**
   * A per-command error has no HTTP status of its own. The classifier is given the status a failed call with an
   * unrecognised code usually has, so a known code decides the class and an empty or unknown one means the
   * command's data was rejected.
   */
  private static final int STATUS_OF_A_REJECTED_CALL = 400;

  private final Map<String, BatchOutcome> outcomes;
  private final BatchTime time;

  private BatchResult(Map<String, BatchOutcome> outcomes, BatchTime time) {
    this.outcomes = Collections.unmodifiableMap(outcomes);
    this.time = time;
  }

  /**
   * Reads a batch call's whole answer ({@code {"result": {"result": .., "result_error": .., "result_time": ..},
   * "time": ..}}) for the commands that were sent, in their order. Names in the answer that were not sent are
   * ignored. Never fails: whatever cannot be read leaves the command's outcome unknown.
   */
  public static BatchResult parse(JsonObject answer, Collection<String> commandNames) {
    Object body = answer == null ? null : answer.getValue("result");
    JsonObject sections = body instanceof JsonObject object ? object : new JsonObject();
    Object results = sections.getValue("result");
    Object errors = sections.getValue("result_error");
    Object times = sections.getValue("result_time");
    Object outerTime = answer == null ? null : answer.getValue("time");

    Map<String, BatchOutcome> outcomes = new LinkedHashMap<>();
    for (String name : commandNames) {
      BatchTime commandTime = BatchTime.from(entry(times, name).value());
      Entry error = entry(errors, name);
      Entry result = entry(results, name);
      BatchOutcome outcome;
      if (error.present()) {
        // An error entry wins over a value: a command reported as failed is not counted as delivered.
        outcome = new BatchOutcome(name, null, commandError(error.value(), times, name, outerTime), commandTime);
      } else if (result.present()) {
        outcome = new BatchOutcome(name, result.value(), null, commandTime);
      } else {
        outcome = new BatchOutcome(name, null, new BitrixError(ErrorClass.AMBIGUOUS, null, null,
            "the batch answer says nothing about this command"), commandTime);
      }
      outcomes.put(name, outcome);
    }
    return new BatchResult(outcomes, BatchTime.from(answer == null ? null : answer.getValue("time")));
  }

  /** The outcome of the command sent under {@code name}, or null if no such command was sent. */
  public BatchOutcome outcome(String name) {
    return outcomes.get(name);
  }

  /** Every command's outcome, by name, in the order the commands were given. */
  public Map<String, BatchOutcome> outcomes() {
    return outcomes;
  }

  /** The batch call's own {@code time} block, or null when the answer has none. */
  public BatchTime time() {
    return time;
  }

  public boolean allSucceeded() {
    return outcomes.values().stream().allMatch(BatchOutcome::succeeded);
  }

  /** The same result with the webhook code masked out of every error text. */
  BatchResult redact(String secret) {
    Map<String, BatchOutcome> redacted = new LinkedHashMap<>();
    outcomes.forEach((name, outcome) -> redacted.put(name, outcome.redact(secret)));
    return new BatchResult(redacted, time);
  }

  private static BitrixError commandError(Object value, Object times, String name, Object outerTime) {
    JsonObject body = new JsonObject();
    if (value instanceof JsonObject error) {
      // A missing code is read like an empty one: both mean a business error described only in words.
      Object code = error.getValue("error");
      Object description = error.getValue("error_description");
      body.put("error", code == null ? "" : String.valueOf(code))
          .put("error_description", description == null ? "" : String.valueOf(description));
    } else {
      // Not the documented shape: keep whatever text there is as the description, with an empty code.
      body.put("error", "").put("error_description", value == null ? "" : String.valueOf(value));
    }
    // The command's own time block lets an OPERATION_TIME_LIMIT carry the moment the method frees up. Real
    // OPERATION_TIME_LIMIT answers inside a batch come with result_time [] (reference §4): then the batch call's
    // own time block says when the window frees, and is the best guess there is.
    Object time = entry(times, name).value();
    if (time instanceof JsonObject block) {
      body.put("time", block);
    } else if (outerTime instanceof JsonObject block) {
      body.put("time", block);
    }
    BitrixError classified = BitrixErrorClassifier.classify(STATUS_OF_A_REJECTED_CALL, "application/json",
        body.encode());
    // The status was only a hint for the classifier: the command itself had none.
    return new BitrixError(classified.errorClass(), null, classified.code(), classified.description(),
        classified.retryAt());
  }

  /** A key looked up in a section that may be an object, a list (keys 0, 1, ...), {@code []} or missing. */
  private static Entry entry(Object section, String name) {
    if (section instanceof JsonObject object) {
      return object.containsKey(name) ? new Entry(true, object.getValue(name)) : Entry.ABSENT;
    }
    if (section instanceof JsonArray array && name.matches("0|[1-9]\\d{0,8}")) {
      int index = Integer.parseInt(name);
      return index < array.size() ? new Entry(true, array.getValue(index)) : Entry.ABSENT;
    }
    return Entry.ABSENT;
  }

  private record Entry(boolean present, Object value) {
    static final Entry ABSENT = new Entry(false, null);
  }

  @Override
  public String toString() {
    return "BatchResult" + List.copyOf(outcomes.values());
  }
}
