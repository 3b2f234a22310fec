/**
 * What a run reports as it goes: an {@link dev.open.dag.event.ExecutionListener} given to
 * {@link dev.open.dag.DagExecutor.Builder#withListener} receives a {@link
 * dev.open.dag.event.RunStartedEvent}, a {@link dev.open.dag.event.TaskEvent} for every task
 * started, retried, succeeded, failed, skipped or cancelled, and the final report.
 */
package dev.open.dag.event;
