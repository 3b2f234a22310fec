package dev.open.dag;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The outcome of one node in one run.
 *
 * @param name the node's name
 * @param backend the backend that ran (or would have run) the node
 * @param status how the node ended
 * @param attempts how many attempts were made (for a {@code map} node, the sum over its elements;
 *     0 when the task never started)
 * @param startedAt when the node started, or null if it never did
 * @param finishedAt when the node finished, or null if it never started
 * @param error why the node did not succeed ({@link TaskFailedException}, {@link
 *     TaskSkippedException} or {@link RunCancelledException}), or null when it succeeded
 * @param cache what the result store did for the node, and why ({@link CacheOutcome.Kind#OFF}
 *     without a store)
 * @param elements for a {@code map} node that started, the number of elements of its input;
 *     otherwise -1
 */
public record NodeReport(String name, String backend, NodeStatus status, int attempts,
    Instant startedAt, Instant finishedAt, Throwable error, CacheOutcome cache, int elements) {

  /**
   * Creates the report of a node that is not a started {@code map} node ({@code elements} -1).
   *
   * @param name the node's name
   * @param backend the backend that ran (or would have run) the node
   * @param status how the node ended
   * @param attempts how many attempts were made
   * @param startedAt when the node started, or null if it never did
   * @param finishedAt when the node finished, or null if it never started
   * @param error why the node did not succeed, or null when it succeeded
   * @param cache what the result store did for the node
   */
  public NodeReport(String name, String backend, NodeStatus status, int attempts,
      Instant startedAt, Instant finishedAt, Throwable error, CacheOutcome cache) {
    this(name, backend, status, attempts, startedAt, finishedAt, error, cache, -1);
  }

  /** {@return how long the node ran, if it started} */
  public Optional<Duration> duration() {
    return startedAt == null || finishedAt == null
        ? Optional.empty()
        : Optional.of(Duration.between(startedAt, finishedAt));
  }
}
