package dev.open.dag.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a node's {@link CacheKey} is made of, kept so that a miss can be explained: which of these
 * changed since the key last stored for the node.
 *
 * @param dag the DAG's name
 * @param dagVersion the DAG's declared version ({@code ""} when none)
 * @param node the node's name
 * @param nodeVersion the node's declared version ({@code ""} when none)
 * @param code what identifies the code the node runs: {@code "java"} for a Java task (whose code
 *     cannot be hashed: {@code withVersion} is how to invalidate it), or a backend's function
 *     and its code's identity
 * @param inputs each input's name and the content hash of its value, in the node's input order
 *     (an input read twice appears twice, its later positions named {@code name#2}, {@code
 *     name#3}, …)
 */
public record KeyRecipe(String dag, String dagVersion, String node, String nodeVersion,
    String code, Map<String, String> inputs) {

  /** The version of how keys are made; a new scheme changes every key. */
  public static final String SCHEME = "open-key-v2";

  /**
   * Checks and snapshots the arguments.
   *
   * @param dag the DAG's name
   * @param dagVersion the DAG's version
   * @param node the node's name
   * @param nodeVersion the node's version
   * @param code the code's identity
   * @param inputs input names to content hashes, in input order
   */
  public KeyRecipe {
    Objects.requireNonNull(dag, "dag");
    Objects.requireNonNull(dagVersion, "dagVersion");
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(nodeVersion, "nodeVersion");
    Objects.requireNonNull(code, "code");
    inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
  }

  /** {@return the key: SHA-256 over the scheme and every field, each length-prefixed} */
  public CacheKey key() {
    MessageDigest sha = sha256();
    List<String> fields = new ArrayList<>();
    fields.add(SCHEME);
    fields.add(dag);
    fields.add(dagVersion);
    fields.add(node);
    fields.add(nodeVersion);
    fields.add(code);
    fields.add(Integer.toString(inputs.size()));
    inputs.forEach((name, hash) -> {
      fields.add(name);
      fields.add(hash);
    });
    for (String field : fields) {
      byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
      sha.update(new byte[] {
          (byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
          (byte) (bytes.length >>> 8), (byte) bytes.length});
      sha.update(bytes);
    }
    return CacheKey.of(sha.digest());
  }

  /**
   * Says what differs from {@code previous}, the recipe last stored for the same node: the first
   * of a changed DAG version, node version, code, set of inputs or input value, in words.
   *
   * @param previous the earlier recipe of this node
   * @return why the keys differ, or {@code "unchanged"} when they do not
   */
  public String differenceFrom(KeyRecipe previous) {
    if (!dagVersion.equals(previous.dagVersion)) {
      return "the DAG's version changed (" + show(previous.dagVersion) + " → " + show(dagVersion)
          + ")";
    }
    if (!nodeVersion.equals(previous.nodeVersion)) {
      return "the node's version changed (" + show(previous.nodeVersion) + " → "
          + show(nodeVersion) + ")";
    }
    if (!code.equals(previous.code)) {
      return "its code changed (" + previous.code + " → " + code + ")";
    }
    if (!List.copyOf(inputs.keySet()).equals(List.copyOf(previous.inputs.keySet()))) {
      return "its inputs changed (" + previous.inputs.keySet() + " → " + inputs.keySet() + ")";
    }
    List<String> changed = new ArrayList<>();
    inputs.forEach((name, hash) -> {
      if (!hash.equals(previous.inputs.get(name))) {
        changed.add("'" + name + "' (" + abbreviated(previous.inputs.get(name)) + " → "
            + abbreviated(hash) + ")");
      }
    });
    return changed.isEmpty() ? "unchanged"
        : "the value of input " + String.join(", ", changed) + " changed";
  }

  private static String abbreviated(String hash) {
    return hash.length() <= 12 ? hash : hash.substring(0, 12);
  }

  private static String show(String version) {
    return version.isEmpty() ? "none" : "'" + version + "'";
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
