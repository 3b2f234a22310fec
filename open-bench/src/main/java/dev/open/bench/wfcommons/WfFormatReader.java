package dev.open.bench.wfcommons;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads WfCommons workflow instances (WfFormat JSON, schema 1.4 to 1.6).
 *
 * <ul>
 *   <li>1.5 and 1.6: tasks in {@code workflow.specification.tasks} (id, parents, children, by
 *       id), runtimes in {@code workflow.execution.tasks} (id, runtimeInSeconds).
 *   <li>1.4: tasks in {@code workflow.tasks}, each with its {@code runtimeInSeconds}, referring
 *       to each other by name (or id).
 * </ul>
 *
 * <p>A dependency may be declared on either end (a parent's {@code children} or a child's {@code
 * parents}); both are read and merged. Every problem is reported with the file and task named:
 * unknown references, duplicate ids, missing or negative runtimes. Cycles are found when the DAG
 * is built (see {@link Replay}).
 */
public final class WfFormatReader {
  private static final Set<String> VERSIONS = Set.of("1.4", "1.5", "1.6");
  private static final ObjectMapper JSON = new ObjectMapper();

  private WfFormatReader() {}

  /**
   * Reads the instance in {@code file}.
   *
   * @param file a WfFormat JSON file
   * @return the instance
   * @throws WfFormatException if the file cannot be read or is not a valid instance
   */
  public static WfInstance read(Path file) throws WfFormatException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.newInputStream(file));
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw new WfFormatException(file, "not valid JSON" + where + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new WfFormatException(file, "cannot read: " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw new WfFormatException(file, "not a WfFormat instance (expected a JSON object)");
    }
    String version = root.path("schemaVersion").asText(null);
    if (version == null) {
      throw new WfFormatException(file, "no schemaVersion");
    }
    if (!VERSIONS.contains(version)) {
      throw new WfFormatException(file, "schemaVersion " + version
          + " is not supported (supported: 1.4, 1.5, 1.6)");
    }
    String name = root.path("name").asText(file.getFileName().toString());
    JsonNode workflow = root.path("workflow");
    return new Parser(file, name, version).parse(workflow);
  }

  /** One parse, with the file at hand for error messages. */
  private static final class Parser {
    private final Path file;
    private final String name;
    private final String version;
    private final List<String> ids = new ArrayList<>();
    private final Map<String, Integer> byReference = new HashMap<>();
    private final List<Set<Integer>> parents = new ArrayList<>();

    Parser(Path file, String name, String version) {
      this.file = file;
      this.name = name;
      this.version = version;
    }

    WfInstance parse(JsonNode workflow) throws WfFormatException {
      boolean legacy = version.equals("1.4");
      JsonNode tasks = legacy
          ? workflow.path("tasks")
          : workflow.path("specification").path("tasks");
      if (!tasks.isArray()) {
        throw new WfFormatException(file, "no task list at "
            + (legacy ? "workflow.tasks" : "workflow.specification.tasks"));
      }
      for (int i = 0; i < tasks.size(); i++) {
        register(tasks.get(i), i, legacy);
      }
      for (int i = 0; i < tasks.size(); i++) {
        JsonNode task = tasks.get(i);
        for (JsonNode parent : references(task, "parents", i)) {
          parents.get(i).add(resolve(parent, i, "parent"));
        }
        for (JsonNode child : references(task, "children", i)) {
          parents.get(resolve(child, i, "child")).add(i);
        }
      }
      double[] runtimes = legacy ? legacyRuntimes(tasks) : executionRuntimes(workflow);
      List<WfInstance.Task> result = new ArrayList<>(ids.size());
      for (int i = 0; i < ids.size(); i++) {
        int[] p = parents.get(i).stream().mapToInt(Integer::intValue).toArray();
        result.add(new WfInstance.Task(ids.get(i), runtimes[i], p));
      }
      return new WfInstance(name, version, List.copyOf(result));
    }

    private void register(JsonNode task, int index, boolean legacy) throws WfFormatException {
      if (!task.isObject()) {
        throw new WfFormatException(file, "task #" + index + " is not a JSON object");
      }
      String taskName = text(task, "name");
      String taskId = text(task, "id");
      String key = legacy ? (taskName != null ? taskName : taskId) : taskId;
      if (key == null) {
        throw new WfFormatException(file, "task #" + index + " has no "
            + (legacy ? "name" : "id"));
      }
      if (byReference.containsKey(key) && ids.get(byReference.get(key)).equals(key)) {
        throw new WfFormatException(file, "duplicate task id '" + key + "' (tasks #"
            + byReference.get(key) + " and #" + index + ")");
      }
      ids.add(key);
      parents.add(new LinkedHashSet<>());
      byReference.put(key, index);
      if (legacy) {
        // 1.4 files refer to tasks by name, sometimes by id: accept both.
        for (String alias : new String[] {taskName, taskId}) {
          if (alias != null) {
            byReference.putIfAbsent(alias, index);
          }
        }
      }
    }

    private Iterable<JsonNode> references(JsonNode task, String field, int index)
        throws WfFormatException {
      JsonNode list = task.get(field);
      if (list == null || list.isNull()) {
        return List.of();
      }
      if (!list.isArray()) {
        throw new WfFormatException(file, "task '" + ids.get(index) + "': " + field
            + " is not a list");
      }
      return list;
    }

    private int resolve(JsonNode reference, int index, String kind) throws WfFormatException {
      Integer target = reference.isTextual() ? byReference.get(reference.asText()) : null;
      if (target == null) {
        throw new WfFormatException(file, "task '" + ids.get(index) + "' lists " + kind + " "
            + reference + ", which is not a task of this workflow");
      }
      if (target == index) {
        throw new WfFormatException(file, "task '" + ids.get(index) + "' lists itself as its "
            + kind + " (a cycle)");
      }
      return target;
    }

    private double[] legacyRuntimes(JsonNode tasks) throws WfFormatException {
      double[] runtimes = new double[ids.size()];
      for (int i = 0; i < ids.size(); i++) {
        runtimes[i] = runtime(tasks.get(i), i);
      }
      return runtimes;
    }

    private double[] executionRuntimes(JsonNode workflow) throws WfFormatException {
      JsonNode tasks = workflow.path("execution").path("tasks");
      if (!tasks.isArray()) {
        throw new WfFormatException(file, "no runtimes: workflow.execution.tasks is missing");
      }
      double[] runtimes = new double[ids.size()];
      boolean[] seen = new boolean[ids.size()];
      for (JsonNode task : tasks) {
        String id = text(task, "id");
        Integer index = id == null ? null : byReference.get(id);
        if (index == null) {
          throw new WfFormatException(file, "workflow.execution.tasks has "
              + (id == null ? "an entry without id" : "task '" + id + "'")
              + ", which is not in workflow.specification.tasks");
        }
        runtimes[index] = runtime(task, index);
        seen[index] = true;
      }
      for (int i = 0; i < seen.length; i++) {
        if (!seen[i]) {
          throw new WfFormatException(file, "task '" + ids.get(i)
              + "' has no entry in workflow.execution.tasks (so no runtimeInSeconds)");
        }
      }
      return runtimes;
    }

    private double runtime(JsonNode task, int index) throws WfFormatException {
      JsonNode value = task.get("runtimeInSeconds");
      if (value == null || !value.isNumber()) {
        throw new WfFormatException(file, "task '" + ids.get(index) + "' has "
            + (value == null ? "no runtimeInSeconds" : "a non-numeric runtimeInSeconds: " + value));
      }
      double seconds = value.asDouble();
      if (!(seconds >= 0) || Double.isInfinite(seconds)) {
        throw new WfFormatException(file, "task '" + ids.get(index)
            + "' has an invalid runtimeInSeconds: " + value);
      }
      return seconds;
    }

    private static String text(JsonNode node, String field) {
      JsonNode value = node.get(field);
      return value != null && value.isTextual() && !value.asText().isBlank() ? value.asText() : null;
    }
  }
}
