/**
 * Supervised pools of Python and Julia worker processes as DAG backends ({@link
 * dev.open.ports.WorkerPool}). The protocol codec is internal and not exported.
 */
module dev.open.ports {
  requires transitive dev.open.dag;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;

  exports dev.open.ports;
}
