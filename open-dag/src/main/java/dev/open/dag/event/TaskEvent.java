package dev.open.dag.event;

import java.time.Duration;

/**
 * Something that happened to one task (node) of a run.
 *
 * @param dag the DAG's name
 * @param runId the run's id
 * @param node the node's name
 * @param backend the backend running the node ({@code "java"} for lambdas)
 * @param attempt the attempt concerned, starting at 1; in the event that ends a task, the number
 *     of attempts made (for a {@code map} node, summed over its elements); 0 if it never started
 * @param started whether the task had started running ({@link ExecutionListener#onTaskStarted} was
 *     sent for it): false for skipped tasks and for tasks cancelled before they started
 * @param duration how long the attempt, or in the event that ends a task the whole task, ran;
 *     {@link Duration#ZERO} for tasks that never started
 * @param error the failure, for failed attempts and tasks; the reason, for skipped and cancelled
 *     tasks; otherwise null
 */
public record TaskEvent(String dag, long runId, String node, String backend, int attempt,
    boolean started, Duration duration, Throwable error) {}
