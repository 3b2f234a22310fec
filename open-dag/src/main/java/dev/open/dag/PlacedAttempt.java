package dev.open.dag;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.slf4j.MDC;

import dev.open.dag.spi.PlacedTask;

/**
 * An attempt handed to a {@link dev.open.dag.spi.TaskPlacement}, or rebuilt from its identity on
 * the JVM where it was placed ({@link Dag#placedTask}).
 */
class PlacedAttempt implements PlacedTask {
  private final String dag;
  private final Node<?> node;
  private final int element;
  private final int attempt;
  private final Object[] inputs;

  PlacedAttempt(String dag, Node<?> node, int element, int attempt, Object[] inputs) {
    this.dag = dag;
    this.node = node;
    this.element = element;
    this.attempt = attempt;
    this.inputs = inputs;
  }

  @Override
  public String dag() {
    return dag;
  }

  @Override
  public String node() {
    return node.name;
  }

  @Override
  public int element() {
    return element;
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public List<Object> inputs() {
    return Collections.unmodifiableList(Arrays.asList(inputs));
  }

  @Override
  public void started() {}

  @Override
  public Object runHere() throws Exception {
    MDC.put("dag", dag);
    MDC.put("node", node.name);
    MDC.put("attempt", Integer.toString(attempt));
    try {
      return node.invoker.invoke(inputs, new AttemptContext(dag, node.name, attempt));
    } finally {
      MDC.remove("dag");
      MDC.remove("node");
      MDC.remove("attempt");
    }
  }

  @Override
  public String toString() {
    return "PlacedTask[" + dag + "/" + node.name + (element < 0 ? "" : "[" + element + "]")
        + " attempt " + attempt + "]";
  }
}
