package dev.open.dag;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import dev.open.dag.policy.RetryPolicy;

/**
 * A typed handle to one node of a {@link Dag}: the value of type {@code T} that the node's task
 * produces. Handles are what you pass as inputs when you add further nodes, so an edge is a Java
 * reference and a type mismatch is a compile error.
 *
 * <p>A handle belongs to the {@link DagBuilder} that created it; using it in another builder is a
 * validation error. Handles are immutable once their DAG is built and safe to share between
 * threads. Identity is the handle itself: two handles are equal only if they are the same object.
 *
 * @param <T> the type of the value the node produces
 */
public final class Node<T> {

  enum Kind {
    /** Declared with {@link DagBuilder#declare(String)} and not (yet) defined. */
    DECLARED,
    /** Runs a {@link Invoker} once with the values of its inputs. */
    TASK,
    /** Runs an element function once per element of its single input, collecting a list. */
    MAP
  }

  /** Adapts the typed task interfaces to an array of input values. */
  @FunctionalInterface
  interface Invoker {
    Object invoke(Object[] inputs, AttemptContext context) throws Exception;
  }

  final DagBuilder owner;
  final int index;
  String name;
  Kind kind = Kind.DECLARED;
  Node<?>[] inputs = NO_INPUTS;
  Invoker invoker;
  String backend = DagBuilder.JAVA_BACKEND;
  RetryPolicy retry;
  Duration timeout;
  Set<String> tags = Set.of();
  boolean retained;
  /** The backend function a call node calls; null for Java tasks. */
  FunctionRef<?> function;
  /** The declared version, part of the node's cache key; "" when none. */
  String version = "";
  /** Whether the node's values are stored and looked up; null: the DAG's or executor's default. */
  Boolean cache;

  static final Node<?>[] NO_INPUTS = new Node<?>[0];

  Node(DagBuilder owner, int index, String name) {
    this.owner = owner;
    this.index = index;
    this.name = name;
  }

  /** {@return the node's name, unique within its DAG} */
  public String name() {
    return name;
  }

  /** {@return the name of the backend that runs this node's task ({@code "java"} for lambdas)} */
  public String backend() {
    return backend;
  }

  /** {@return the node's inputs in the order its task receives them} */
  public List<Node<?>> inputs() {
    return List.of(inputs);
  }

  /** {@return the resource tags of this node, used by concurrency limits} */
  public Set<String> tags() {
    return tags;
  }

  /**
   * {@return whether the node's result is kept until the end of a run: true for nodes marked with
   * {@link NodeSpec#retain()}} Sinks (nodes nothing depends on) are always kept as well.
   */
  public boolean isRetained() {
    return retained;
  }

  /**
   * {@return whether the node is a {@code map} node: one task per element of its input, reported
   * as one node (see {@link NodeReport#elements()})}
   */
  public boolean isMap() {
    return kind == Kind.MAP;
  }

  @Override
  public String toString() {
    return "Node[" + name + "]";
  }
}
