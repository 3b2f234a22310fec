package dev.open.dag;

import java.time.Duration;

/** A run was cancelled because it did not finish within its deadline. */
public final class DeadlineExceededException extends RunCancelledException {
  private static final long serialVersionUID = 1L;

  /** The run's deadline. */
  private final Duration deadline;

  DeadlineExceededException(String dag, Duration deadline) {
    super("run of DAG '" + dag + "' exceeded its deadline of " + deadline, null);
    this.deadline = deadline;
  }

  /** {@return the deadline that was exceeded} */
  public Duration deadline() {
    return deadline;
  }
}
