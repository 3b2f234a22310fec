package dev.open.cluster;

import java.io.Serializable;
import java.util.Map;

/**
 * What a member serves, as it publishes it in the {@code IMap} {@value #MAP} under its UUID: how
 * many nodes it runs at once and the fingerprint of each DAG it registered. A coordinator places a
 * node only on members whose fingerprint of the node's DAG equals its own.
 *
 * @param capacity the member's {@code maxConcurrentNodes}
 * @param dags DAG name to {@link Fingerprint fingerprint}
 */
record MemberInfo(int capacity, Map<String, String> dags) implements Serializable {
  static final String MAP = "open.members";

  MemberInfo {
    dags = Map.copyOf(dags);
  }
}
