/**
 * Micrometer metrics of runs and tasks: register {@link dev.open.dag.metrics.DagMetrics} as an
 * execution listener to count tasks by outcome and time them, per DAG and backend.
 */
package dev.open.dag.metrics;
