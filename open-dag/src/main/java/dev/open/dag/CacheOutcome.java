package dev.open.dag;

import java.util.Objects;
import java.util.Optional;

import dev.open.dag.store.CacheKey;

/**
 * What the result store did for one node in one run, and why: {@link NodeReport#cache()}.
 *
 * @param kind hit, miss, not cacheable, or caching off
 * @param key the node's key, when it has one
 * @param reason why, in words: for a miss, what changed since the key last stored for the node
 *     (an input's value, a version, the code) or that the entry was absent or corrupt; for a node
 *     that is not cacheable, which value has no codec
 * @param stored whether the node's value is now in the store (true for a hit)
 */
public record CacheOutcome(Kind kind, Optional<CacheKey> key, String reason, boolean stored) {

  /** The kinds of outcome. */
  public enum Kind {
    /** The value was loaded from the store; the task did not run. */
    HIT,
    /** The store had no valid entry under the key; the task ran. */
    MISS,
    /** The node could not be keyed or stored: a value without a codec, or a store error. */
    NOT_CACHEABLE,
    /** No result store, or the node, its DAG or the executor opted out; or it never started. */
    OFF
  }

  /** The outcome of a node that had nothing to do with a store. */
  static final CacheOutcome NO_STORE =
      new CacheOutcome(Kind.OFF, Optional.empty(), "no result store", false);

  /**
   * Checks the arguments.
   *
   * @param kind the kind
   * @param key the key
   * @param reason why
   * @param stored whether stored
   */
  public CacheOutcome {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(reason, "reason");
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(java.util.Locale.ROOT)
        + key.map(k -> " " + k.shortHex()).orElse("") + ": " + reason;
  }
}
