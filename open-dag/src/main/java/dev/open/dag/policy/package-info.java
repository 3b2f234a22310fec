/**
 * How runs and tasks behave when things go wrong: {@link dev.open.dag.policy.RetryPolicy}
 * (attempts, backoff, jitter, which failures to retry), {@link dev.open.dag.policy.FailureMode}
 * (fail fast or continue), and {@link dev.open.dag.policy.Sleeper}, the seam through which
 * backoff waits (tests replace it to retry without waiting).
 */
package dev.open.dag.policy;
