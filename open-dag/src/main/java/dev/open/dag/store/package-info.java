/**
 * Durable runs: a content-addressed store of node values, behind both resuming a run after its JVM
 * died and memoizing nodes whose inputs did not change (guide: docs/durability.md).
 *
 * <p>Entry points: {@link dev.open.dag.store.ResultStore#directory} (the embedded store, one file
 * per entry, {@link dev.open.dag.store.DirectoryStore}), passed to {@code
 * DagExecutor.builder().withResultStore(store)}; {@link dev.open.dag.store.ValueCodecs} (the
 * built-in codecs, and yours with {@link dev.open.dag.store.ValueCodecs#with}). A node's key is a
 * {@link dev.open.dag.store.CacheKey}, the hash of its {@link dev.open.dag.store.KeyRecipe}; what
 * a run did for a node is in {@code NodeReport.cache()}. {@link
 * dev.open.dag.store.ResultStore} and {@link dev.open.dag.store.ValueCodec} are the SPIs for
 * other stores and other value types.
 */
package dev.open.dag.store;
