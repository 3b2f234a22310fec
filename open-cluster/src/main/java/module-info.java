/**
 * OPEN on a Hazelcast cluster: the same registered DAGs run across member JVMs ({@link
 * dev.open.cluster.ClusterExecutor}), surviving the loss of any member.
 */
module dev.open.cluster {
  requires transitive dev.open.dag;
  requires transitive com.hazelcast.core;
  requires org.slf4j;

  exports dev.open.cluster;
}
