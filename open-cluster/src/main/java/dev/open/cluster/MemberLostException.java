package dev.open.cluster;

/**
 * An attempt lost the member running it more often than a run allows ({@link
 * ClusterExecutor.Builder#withMaxRelocations}). Losing a member is not the task's fault and
 * costs none of its retry attempts until then; this exception is how the run says that it gave
 * up re-placing the attempt, and the node's retry policy judges it like any other failure.
 */
public final class MemberLostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MemberLostException(String message, Throwable cause) {
    super(message, cause);
  }
}
