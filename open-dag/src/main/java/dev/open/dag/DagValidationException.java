package dev.open.dag;

import java.util.List;

/**
 * Thrown by {@link DagBuilder#build()} when the DAG is not valid. Lists every problem found, not
 * just the first: cycles (as the path of node names that closes them), duplicate or missing names,
 * missing tasks, inputs that belong to another DAG, declared nodes that were never defined.
 */
public final class DagValidationException extends DagException {
  private static final long serialVersionUID = 1L;

  /** The DAG's name. */
  private final String dag;
  /** Every problem found, one per entry. */
  private final List<String> problems;

  DagValidationException(String dag, List<String> problems) {
    super(format(dag, problems), null);
    this.dag = dag;
    this.problems = List.copyOf(problems);
  }

  /** {@return the name of the DAG that failed validation} */
  public String dag() {
    return dag;
  }

  /** {@return every problem found, one human-readable sentence each, in a stable order} */
  public List<String> problems() {
    return problems;
  }

  private static String format(String dag, List<String> problems) {
    StringBuilder sb = new StringBuilder()
        .append("DAG '").append(dag).append("' is invalid (")
        .append(problems.size()).append(problems.size() == 1 ? " problem):" : " problems):");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
