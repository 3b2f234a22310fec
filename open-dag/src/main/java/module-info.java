/**
 * OPEN's core: a typed DSL for workflow DAGs ({@link dev.open.dag.Dag}) and an in-process
 * executor on virtual threads ({@link dev.open.dag.DagExecutor}), with policies, events, metrics,
 * exports, off-heap arrays and the backend SPI that the Rust and worker modules implement.
 */
module dev.open.dag {
  requires transitive micrometer.core;
  requires org.slf4j;

  exports dev.open.dag;
  exports dev.open.dag.array;
  exports dev.open.dag.event;
  exports dev.open.dag.export;
  exports dev.open.dag.metrics;
  exports dev.open.dag.policy;
  exports dev.open.dag.spi;
  exports dev.open.dag.store;
}
