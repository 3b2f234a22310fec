package dev.open.dag;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import dev.open.dag.policy.RetryPolicy;
import dev.open.dag.spi.Invocation;

/**
 * The options of one node under construction, then its task. Obtained from {@link
 * DagBuilder#node(String)}; the {@code withX} methods set options and one terminal method ({@code
 * task}, {@code fanIn}, {@code map} or {@code call}) adds the node and returns its typed handle.
 *
 * <pre>{@code
 * Node<Report> report = dag.node("report")
 *     .withRetry(retry)
 *     .withTimeout(Duration.ofSeconds(30))
 *     .withTags("db")
 *     .retain()
 *     .task(orders, customers, Reports::build);
 * }</pre>
 *
 * <p>Defaults: the executor's retry policy and timeout, no tags, result released after its last
 * consumer. Each option may be set once; setting it twice is a mistake and throws {@link
 * IllegalStateException}. Not thread-safe.
 */
public final class NodeSpec {
  private final DagBuilder builder;
  private final String name;
  private RetryPolicy retry;
  private Duration timeout;
  private Set<String> tags;
  private boolean retained;
  private String version;
  private Boolean cache;
  private boolean done;

  NodeSpec(DagBuilder builder, String name) {
    this.builder = builder;
    this.name = name;
  }

  /**
   * Sets the retry policy of this node, replacing the executor's default.
   *
   * @param policy the policy
   * @return this spec
   */
  public NodeSpec withRetry(RetryPolicy policy) {
    checkOpen();
    Objects.requireNonNull(policy, "policy");
    if (retry != null) {
      throw new IllegalStateException("retry policy of '" + name + "' was already set to " + retry);
    }
    this.retry = policy;
    return this;
  }

  /**
   * Sets the timeout of each attempt of this node's task, replacing the executor's default. The
   * attempt's thread is interrupted when it runs out; the attempt then fails with {@link
   * TaskTimeoutException}, which the retry policy may retry.
   *
   * @param timeout a positive duration
   * @return this spec
   */
  public NodeSpec withTimeout(Duration timeout) {
    checkOpen();
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    if (this.timeout != null) {
      throw new IllegalStateException("timeout of '" + name + "' was already set to " + this.timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Sets resource tags: every tag with a {@link DagExecutor.Builder#withConcurrencyLimit
   * concurrency limit} bounds how many tasks carrying it run at once.
   *
   * @param tags tag names, not blank
   * @return this spec
   */
  public NodeSpec withTags(String... tags) {
    checkOpen();
    Objects.requireNonNull(tags, "tags");
    if (this.tags != null) {
      throw new IllegalStateException("tags of '" + name + "' were already set to " + this.tags);
    }
    Set<String> set = new LinkedHashSet<>();
    for (String tag : tags) {
      Objects.requireNonNull(tag, "tags contains null");
      if (tag.isBlank()) {
        throw new IllegalArgumentException("tags must not be blank");
      }
      set.add(tag);
    }
    this.tags = Collections.unmodifiableSet(set);
    return this;
  }

  /**
   * Keeps this node's result until the end of each run, so {@link RunReport#result(Node)} can
   * return it. Results of other nodes are released as soon as their last consumer has finished.
   * Sinks (nodes nothing depends on) are always kept.
   *
   * @return this spec
   */
  public NodeSpec retain() {
    checkOpen();
    this.retained = true;
    return this;
  }

  /**
   * Declares the version of this node's code. With a result store, a node's value is looked up by
   * a key made of its DAG, its name, the versions, the code it calls and its inputs' values; a
   * Java task's code cannot be hashed, so changing this version is how to say its code changed
   * (docs/durability.md). Default: no version.
   *
   * @param version any non-blank text, such as {@code "2"}
   * @return this spec
   */
  public NodeSpec withVersion(String version) {
    checkOpen();
    Objects.requireNonNull(version, "version");
    if (version.isBlank()) {
      throw new IllegalArgumentException("version must not be blank");
    }
    if (this.version != null) {
      throw new IllegalStateException("version was already set to '" + this.version + "'");
    }
    this.version = version;
    return this;
  }

  /**
   * Says whether this node's values are stored in and looked up from the executor's result store,
   * overriding the DAG's and the executor's default. Opt out for a task whose value is not a
   * function of its inputs: one that reads the clock, the network or a file that changes.
   *
   * @param cache whether to cache
   * @return this spec
   */
  public NodeSpec withCache(boolean cache) {
    checkOpen();
    if (this.cache != null) {
      throw new IllegalStateException("cache was already set to " + this.cache);
    }
    this.cache = cache;
    return this;
  }

  /**
   * Adds a source node, without inputs.
   *
   * @param task computes the value
   * @param <R> the type of the value
   * @return the node's handle
   */
  public <R> Node<R> task(Task0<? extends R> task) {
    return add(Node.Kind.TASK, task == null ? null : (in, ctx) -> task.call());
  }

  /**
   * Adds a node with one input.
   *
   * @param a the input
   * @param task computes the value from the input's value
   * @param <A> the input's type
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, R> Node<R> task(Node<A> a, Task1<? super A, ? extends R> task) {
    return add(Node.Kind.TASK, task == null ? null : (in, ctx) -> task.apply((A) in[0]), a);
  }

  /**
   * Adds a node with two inputs.
   *
   * @param a the first input
   * @param b the second input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, B, R> Node<R> task(Node<A> a, Node<B> b, Task2<? super A, ? super B, ? extends R> task) {
    return add(Node.Kind.TASK,
        task == null ? null : (in, ctx) -> task.apply((A) in[0], (B) in[1]), a, b);
  }

  /**
   * Adds a node with three inputs.
   *
   * @param a the first input
   * @param b the second input
   * @param c the third input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <C> the third input's type
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, B, C, R> Node<R> task(
      Node<A> a, Node<B> b, Node<C> c, Task3<? super A, ? super B, ? super C, ? extends R> task) {
    return add(Node.Kind.TASK,
        task == null ? null : (in, ctx) -> task.apply((A) in[0], (B) in[1], (C) in[2]), a, b, c);
  }

  /**
   * Adds a node with four inputs.
   *
   * @param a the first input
   * @param b the second input
   * @param c the third input
   * @param d the fourth input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <C> the third input's type
   * @param <D> the fourth input's type
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, B, C, D, R> Node<R> task(Node<A> a, Node<B> b, Node<C> c, Node<D> d,
      Task4<? super A, ? super B, ? super C, ? super D, ? extends R> task) {
    return add(Node.Kind.TASK, task == null ? null
        : (in, ctx) -> task.apply((A) in[0], (B) in[1], (C) in[2], (D) in[3]), a, b, c, d);
  }

  /**
   * Adds a node with five inputs.
   *
   * @param a the first input
   * @param b the second input
   * @param c the third input
   * @param d the fourth input
   * @param e the fifth input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <C> the third input's type
   * @param <D> the fourth input's type
   * @param <E> the fifth input's type
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, B, C, D, E, R> Node<R> task(Node<A> a, Node<B> b, Node<C> c, Node<D> d, Node<E> e,
      Task5<? super A, ? super B, ? super C, ? super D, ? super E, ? extends R> task) {
    return add(Node.Kind.TASK, task == null ? null
        : (in, ctx) -> task.apply((A) in[0], (B) in[1], (C) in[2], (D) in[3], (E) in[4]),
        a, b, c, d, e);
  }

  /**
   * Adds a fan-in node: its task receives the values of all {@code inputs} as one list, in order.
   *
   * @param inputs the input nodes (any number, including none)
   * @param task computes the value from the list of input values
   * @param <A> the common type of the inputs
   * @param <R> the type of the value
   * @return the node's handle
   */
  @SuppressWarnings("unchecked")
  public <A, R> Node<R> fanIn(List<? extends Node<? extends A>> inputs, TaskN<A, ? extends R> task) {
    Node<?>[] array = inputs == null ? null : inputs.toArray(new Node<?>[0]);
    return add(Node.Kind.TASK, task == null ? null
        : (in, ctx) -> task.apply((List<A>) Collections.unmodifiableList(Arrays.asList(in))),
        array);
  }

  /**
   * Adds a dynamic fan-out node: at run time, {@code fn} is applied to every element of the
   * collection that {@code source} produces, each element as its own task on its own virtual
   * thread (with this node's retry policy, timeout and tags), and the results are collected into
   * a list in the collection's iteration order. The node fails as soon as one element fails for
   * good; the other elements are then interrupted. Fan the results back in by using this node as
   * an input.
   *
   * @param source the node producing the collection
   * @param fn applied to each element
   * @param <A> the element type
   * @param <R> the result type of {@code fn}
   * @return the node's handle; its value is an unmodifiable list that may contain nulls
   */
  @SuppressWarnings("unchecked")
  public <A, R> Node<List<R>> map(Node<? extends Collection<? extends A>> source,
      Task1<? super A, ? extends R> fn) {
    return add(Node.Kind.MAP, fn == null ? null : (in, ctx) -> fn.apply((A) in[0]), source);
  }

  /**
   * Adds a node that calls {@code function} on its backend with the values of {@code inputs}.
   * The node is tagged with the backend's name, so a concurrency limit on that name bounds the
   * calls in flight; timeouts and cancellation cancel the backend's future.
   *
   * @param function the backend function to call
   * @param inputs the nodes whose values are the call's arguments, in order
   * @param <R> the result type
   * @return the node's handle
   */
  public <R> Node<R> call(FunctionRef<R> function, Node<?>... inputs) {
    Node.Invoker invoker = function == null ? null : (in, ctx) -> invokeBackend(function, in, ctx);
    Node<R> node = add(Node.Kind.TASK, invoker, inputs);
    if (function != null) {
      node.backend = function.backend().name();
      node.function = function;
    }
    return node;
  }

  private static Object invokeBackend(FunctionRef<?> function, Object[] in, AttemptContext ctx)
      throws Exception {
    Invocation invocation = new Invocation(ctx.dag(), ctx.node(), ctx.attempt(),
        function.function(), Collections.unmodifiableList(Arrays.asList(in)), function.resultType(),
        ctx.placement());
    CompletableFuture<?> future = function.backend().invoke(invocation);
    if (future == null) {
      throw new IllegalStateException("backend '" + function.backend().name()
          + "' returned no future for " + function);
    }
    Object value;
    try {
      value = future.get();
    } catch (InterruptedException e) {
      future.cancel(true); // timeout or cancellation: the backend stops the call
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw e;
    } catch (CancellationException e) {
      throw new IllegalStateException("backend '" + function.backend().name()
          + "' cancelled the call of " + function, e);
    }
    if (value != null && !function.resultType().isInstance(value)) {
      throw new ClassCastException("backend '" + function.backend().name() + "' returned "
          + value.getClass().getName() + " for " + function + " in node '" + ctx.node()
          + "', expected " + function.resultType().getName());
    }
    return value;
  }

  private <R> Node<R> add(Node.Kind kind, Node.Invoker invoker, Node<?>... inputs) {
    checkOpen();
    done = true;
    Node<R> node = builder.define(name);
    node.kind = kind;
    node.invoker = invoker;
    node.inputs = inputs == null ? null : inputs.clone();
    node.retry = retry;
    node.timeout = timeout;
    node.tags = tags == null ? Set.of() : tags;
    node.retained = retained;
    node.version = version == null ? "" : version;
    node.cache = cache;
    return node;
  }

  private void checkOpen() {
    if (done) {
      throw new IllegalStateException("node '" + name + "' was already added; start a new one "
          + "with DagBuilder.node(name)");
    }
    builder.checkNotBuilt();
  }
}
