package dev.open.dag;

import java.util.Objects;

import dev.open.dag.spi.Backend;

/**
 * A function that a {@link Backend} runs, by name: a Python {@code "module:function"}, a Rust kernel,
 * a Julia function. Nodes call it with {@link DagBuilder#call}. Immutable and thread-safe.
 *
 * @param <R> the Java type the backend returns for this function
 */
public final class FunctionRef<R> {
  private final Backend backend;
  private final String function;
  private final Class<R> resultType;

  private FunctionRef(Backend backend, String function, Class<R> resultType) {
    this.backend = backend;
    this.function = function;
    this.resultType = resultType;
  }

  /**
   * Returns a reference to {@code function} on {@code backend}, whose results are of {@code
   * resultType} (a primitive type stands for its wrapper).
   *
   * @param backend the backend that runs the function
   * @param function the backend-specific function name, not blank
   * @param resultType the type of the function's results; {@code Object.class} accepts anything
   * @param <R> the result type
   * @return the reference
   */
  public static <R> FunctionRef<R> of(Backend backend, String function, Class<R> resultType) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(resultType, "resultType");
    if (function.isBlank()) {
      throw new IllegalArgumentException("function must not be blank");
    }
    return new FunctionRef<>(backend, function, wrap(resultType));
  }

  /** {@return the backend that runs the function} */
  public Backend backend() {
    return backend;
  }

  /** {@return the backend-specific function name} */
  public String function() {
    return function;
  }

  /** {@return the type of the function's results (never primitive)} */
  public Class<R> resultType() {
    return resultType;
  }

  @SuppressWarnings("unchecked")
  private static <R> Class<R> wrap(Class<R> type) {
    if (!type.isPrimitive()) {
      return type;
    }
    Class<?> boxed = switch (type.getName()) {
      case "int" -> Integer.class;
      case "long" -> Long.class;
      case "double" -> Double.class;
      case "float" -> Float.class;
      case "boolean" -> Boolean.class;
      case "short" -> Short.class;
      case "byte" -> Byte.class;
      case "char" -> Character.class;
      default -> Void.class;
    };
    return (Class<R>) boxed;
  }

  @Override
  public String toString() {
    return backend.name() + ":" + function;
  }
}
