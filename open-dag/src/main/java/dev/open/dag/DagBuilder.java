package dev.open.dag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds an immutable {@link Dag}. Each method adding a node returns the node's typed {@link Node}
 * handle, used as an input of later nodes:
 *
 * <pre>{@code
 * DagBuilder b = Dag.builder("orders");
 * Node<List<Order>> orders = b.task("load", () -> repository.loadOrders());
 * Node<List<Invoice>> invoices = b.map("invoice", orders, Invoices::of);
 * Node<Money> total = b.task("total", invoices, Invoices::sum);
 * Dag dag = b.build();
 * }</pre>
 *
 * <p>The shorthand methods ({@code task}, {@code fanIn}, {@code map}, {@code call}) add a node with
 * default options; {@link #node(String)} starts a node whose options (retry, timeout, tags,
 * retain) are set before its task. {@link #declare(String)} hands out a handle for a node defined
 * later, for graphs built from data in any order.
 *
 * <p>Mistakes in the graph are collected and reported all at once by {@link #build()}, which
 * throws {@link DagValidationException} listing them: cycles, duplicate or missing names, missing
 * tasks or inputs, inputs from another builder, declared nodes never defined. Wrong option values
 * (a negative timeout, a null policy) are refused at once by the method given them.
 *
 * <p>A builder builds one DAG; it is not thread-safe.
 */
public final class DagBuilder {
  static final String JAVA_BACKEND = "java";

  private final String name;
  private final List<Node<?>> nodes = new ArrayList<>();
  /** Declared nodes not yet defined, by name. */
  private final Map<String, Node<?>> declared = new HashMap<>();
  private Dag built;
  String version = "";
  Boolean cache;

  DagBuilder(String name) {
    this.name = Objects.requireNonNull(name, "name");
  }

  /** {@return the name of the DAG under construction} */
  public String name() {
    return name;
  }

  /**
   * Declares the version of the whole DAG, part of every node's cache key: changing it makes every
   * node miss the result store once (docs/durability.md). Default: no version.
   *
   * @param version any non-blank text
   * @return this builder
   */
  public DagBuilder withVersion(String version) {
    checkNotBuilt();
    Objects.requireNonNull(version, "version");
    if (version.isBlank()) {
      throw new IllegalArgumentException("version must not be blank");
    }
    if (!this.version.isEmpty()) {
      throw new IllegalStateException("version was already set to '" + this.version + "'");
    }
    this.version = version;
    return this;
  }

  /**
   * Sets whether this DAG's nodes are cached by default when the executor has a result store
   * (each node may say otherwise with {@link NodeSpec#withCache}). Default: the executor's.
   *
   * @param cache whether to cache
   * @return this builder
   */
  public DagBuilder withCache(boolean cache) {
    checkNotBuilt();
    if (this.cache != null) {
      throw new IllegalStateException("cache was already set to " + this.cache);
    }
    this.cache = cache;
    return this;
  }

  /**
   * Starts a node with options. Add it with one of the returned spec's terminal methods.
   *
   * @param name the node's name, unique within the DAG
   * @return the node's spec
   */
  public NodeSpec node(String name) {
    checkNotBuilt();
    return new NodeSpec(this, name);
  }

  /**
   * Declares a node to be defined later (by a node of the same name), so that it can be used as
   * an input before its own inputs exist. The type parameter is the caller's promise: it is not
   * checked against the definition.
   *
   * @param name the node's name
   * @param <T> the type the node will produce
   * @return a handle usable as an input at once
   */
  public <T> Node<T> declare(String name) {
    checkNotBuilt();
    Node<T> node = new Node<>(this, nodes.size(), name);
    nodes.add(node);
    if (name != null) {
      declared.putIfAbsent(name, node); // a second declaration is reported as a duplicate name
    }
    return node;
  }

  /**
   * Adds a source node without inputs.
   *
   * @param name the node's name
   * @param task computes the value
   * @param <R> the value's type
   * @return the node's handle
   */
  public <R> Node<R> task(String name, Task0<? extends R> task) {
    return node(name).task(task);
  }

  /**
   * Adds a node with one input.
   *
   * @param name the node's name
   * @param a the input
   * @param task computes the value from the input's value
   * @param <A> the input's type
   * @param <R> the value's type
   * @return the node's handle
   */
  public <A, R> Node<R> task(String name, Node<A> a, Task1<? super A, ? extends R> task) {
    return node(name).task(a, task);
  }

  /**
   * Adds a node with two inputs.
   *
   * @param name the node's name
   * @param a the first input
   * @param b the second input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <R> the value's type
   * @return the node's handle
   */
  public <A, B, R> Node<R> task(String name, Node<A> a, Node<B> b,
      Task2<? super A, ? super B, ? extends R> task) {
    return node(name).task(a, b, task);
  }

  /**
   * Adds a node with three inputs.
   *
   * @param name the node's name
   * @param a the first input
   * @param b the second input
   * @param c the third input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <C> the third input's type
   * @param <R> the value's type
   * @return the node's handle
   */
  public <A, B, C, R> Node<R> task(String name, Node<A> a, Node<B> b, Node<C> c,
      Task3<? super A, ? super B, ? super C, ? extends R> task) {
    return node(name).task(a, b, c, task);
  }

  /**
   * Adds a node with four inputs.
   *
   * @param name the node's name
   * @param a the first input
   * @param b the second input
   * @param c the third input
   * @param d the fourth input
   * @param task computes the value from the inputs' values
   * @param <A> the first input's type
   * @param <B> the second input's type
   * @param <C> the third input's type
   * @param <D> the fourth input's type
   * @param <R> the value's type
   * @return the node's handle
   */
  public <A, B, C, D, R> Node<R> task(String name, Node<A> a, Node<B> b, Node<C> c, Node<D> d,
      Task4<? super A, ? super B, ? super C, ? super D, ? extends R> task) {
    return node(name).task(a, b, c, d, task);
  }

  /**
   * Adds a node with five inputs.
   *
   * @param name the node's name
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
   * @param <R> the value's type
   * @return the node's handle
   */
  public <A, B, C, D, E, R> Node<R> task(String name, Node<A> a, Node<B> b, Node<C> c,
      Node<D> d, Node<E> e,
      Task5<? super A, ? super B, ? super C, ? super D, ? super E, ? extends R> task) {
    return node(name).task(a, b, c, d, e, task);
  }

  /**
   * Adds a fan-in node whose task receives the values of all {@code inputs} as one list.
   *
   * @param name the node's name
   * @param inputs the input nodes, in order
   * @param task computes the value from the list of input values
   * @param <A> the common type of the inputs
   * @param <R> the value's type
   * @return the node's handle
   * @see NodeSpec#fanIn(List, TaskN)
   */
  public <A, R> Node<R> fanIn(String name, List<? extends Node<? extends A>> inputs,
      TaskN<A, ? extends R> task) {
    return node(name).fanIn(inputs, task);
  }

  /**
   * Adds a dynamic fan-out node applying {@code fn} to every element of the collection {@code
   * source} produces at run time, each element as its own task.
   *
   * @param name the node's name
   * @param source the node producing the collection
   * @param fn applied to each element
   * @param <A> the element type
   * @param <R> the result type of {@code fn}
   * @return the node's handle, whose value is the list of results in iteration order
   * @see NodeSpec#map(Node, Task1)
   */
  public <A, R> Node<List<R>> map(String name, Node<? extends Collection<? extends A>> source,
      Task1<? super A, ? extends R> fn) {
    return node(name).map(source, fn);
  }

  /**
   * Adds a node calling a backend function with the values of {@code inputs}.
   *
   * @param name the node's name
   * @param function the backend function
   * @param inputs the nodes whose values are the arguments
   * @param <R> the result type
   * @return the node's handle
   * @see NodeSpec#call(FunctionRef, Node[])
   */
  public <R> Node<R> call(String name, FunctionRef<R> function, Node<?>... inputs) {
    return node(name).call(function, inputs);
  }

  /**
   * Validates the graph and returns the immutable DAG. Nothing is built when a problem is found.
   *
   * @return the DAG
   * @throws DagValidationException listing every problem found
   * @throws IllegalStateException if this builder already built its DAG
   */
  public Dag build() {
    checkNotBuilt();
    built = DagCompiler.compile(this, name, List.copyOf(nodes));
    return built;
  }

  /** Returns the node to fill in for {@code name}: a declared one, or a new one. */
  @SuppressWarnings("unchecked")
  <R> Node<R> define(String nodeName) {
    Node<?> node = nodeName == null ? null : declared.remove(nodeName);
    if (node == null) {
      node = new Node<>(this, nodes.size(), nodeName);
      nodes.add(node);
    }
    return (Node<R>) node;
  }

  void checkNotBuilt() {
    if (built != null) {
      throw new IllegalStateException("this builder already built DAG '" + name
          + "'; start a new one with Dag.builder(name)");
    }
  }
}
