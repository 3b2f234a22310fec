package dev.open.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import dev.open.dag.Dag;
import dev.open.dag.Node;

/**
 * A hash of a DAG's shape — its name and version, and every node's name, backend and inputs in
 * topological order — that members compare before they send each other nodes: two members that
 * built different DAGs under one name do not exchange work (a node placed there would run other
 * code, or not exist).
 */
final class Fingerprint {
  private Fingerprint() {}

  static String of(Dag dag) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    field(sha, dag.name());
    field(sha, dag.version());
    for (Node<?> node : dag.nodes()) {
      field(sha, node.name());
      field(sha, node.backend());
      for (Node<?> input : node.inputs()) {
        field(sha, input.name());
      }
      field(sha, "");
    }
    return HexFormat.of().formatHex(sha.digest(), 0, 16);
  }

  private static void field(MessageDigest sha, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    sha.update((byte) (bytes.length >>> 24));
    sha.update((byte) (bytes.length >>> 16));
    sha.update((byte) (bytes.length >>> 8));
    sha.update((byte) bytes.length);
    sha.update(bytes);
  }
}
