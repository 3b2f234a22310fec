package dev.open.dag.event;

import java.time.Instant;

/**
 * A run has started.
 *
 * @param dag the DAG's name
 * @param runId the run's id, unique within the JVM
 * @param nodes the number of nodes in the DAG
 * @param startedAt when the run started
 */
public record RunStartedEvent(String dag, long runId, int nodes, Instant startedAt) {}
