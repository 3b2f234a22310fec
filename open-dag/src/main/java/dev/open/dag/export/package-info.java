/**
 * Pictures of a DAG: {@link dev.open.dag.export.DagExport} writes Graphviz DOT and Mermaid, with
 * a run's statuses as colours when given its report.
 */
package dev.open.dag.export;
