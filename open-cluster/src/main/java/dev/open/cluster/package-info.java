/**
 * Runs OPEN DAGs across a cluster of JVMs on Hazelcast (community edition): {@link
 * dev.open.cluster.ClusterExecutor} registers the same DAGs on every member, places ready nodes on
 * the least loaded member, re-places the nodes of a member that dies and lets another member take
 * over a run whose coordinator died, reusing every value in the cluster's result store.
 */
package dev.open.cluster;
