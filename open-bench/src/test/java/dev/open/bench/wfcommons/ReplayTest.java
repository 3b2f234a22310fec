package dev.open.bench.wfcommons;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ReplayTest {
  @TempDir
  Path dir;

  /** The instances vendored in the test resources, which a clone of the repository has. */
  static final Path VENDORED = Path.of("src/test/resources/wfinstances");

  /**
   * The vendored instances, and those of {@code -Dopen.wfinstances} (../shared/wfinstances, as
   * the build passes it) where that folder exists: more instances, never a requirement.
   */
  static Stream<Path> instances() throws IOException {
    java.util.Map<String, Path> byName = new java.util.TreeMap<>();
    List<Path> vendored = json(VENDORED);
    assertThat(vendored).as("vendored instances in " + VENDORED.toAbsolutePath()).hasSize(7);
    vendored.forEach(f -> byName.put(f.getFileName().toString(), f));
    String shared = System.getProperty("open.wfinstances");
    if (shared != null && Files.isDirectory(Path.of(shared))) {
      json(Path.of(shared)).forEach(f -> byName.putIfAbsent(f.getFileName().toString(), f));
    }
    return byName.values().stream();
  }

  private static List<Path> json(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("instances")
  void everyInstanceReplaysInOrderExactlyOnce(Path file) throws Exception {
    WfInstance instance = WfFormatReader.read(file);
    double scale = 0.2 / Replay.criticalPathSeconds(instance); // a 200 ms critical path
    ReplayResult result = Replay.of(file, instance, scale).run(0);

    assertThat(result.status()).isEqualTo("SUCCEEDED");
    assertThat(result.precedenceViolations()).isZero();
    assertThat(result.exactlyOnce()).isTrue();
    assertThat(result.tasks()).isEqualTo(instance.tasks().size()).isPositive();
    assertThat(result.criticalPathSeconds()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(result.makespanSeconds()).isGreaterThanOrEqualTo(result.criticalPathSeconds() * 0.999);
  }

  @Test
  void aParallelismLimitKeepsOrderAndStretchesTheRun() throws Exception {
    Path file = VENDORED.resolve("montage-chameleon-2mass-005d-001.json");
    WfInstance instance = WfFormatReader.read(file);
    ReplayResult result = Replay.of(file, instance, 0.1 / Replay.criticalPathSeconds(instance))
        .run(2);

    assertThat(result.precedenceViolations()).isZero();
    assertThat(result.exactlyOnce()).isTrue();
    assertThat(result.maxParallel()).isEqualTo(2);
  }

  @Test
  void readsSchema14WithDependenciesOnEitherEnd() throws Exception {
    Path file = write("v14.json", """
        {"name": "old", "schemaVersion": "1.4", "workflow": {"makespanInSeconds": 3,
          "executedAt": "2020", "tasks": [
            {"name": "a", "id": "1", "type": "compute", "runtimeInSeconds": 1.5, "children": ["b"]},
            {"name": "b", "id": "2", "type": "compute", "runtimeInSeconds": 2, "parents": []},
            {"name": "c", "type": "compute", "runtimeInSeconds": 0, "parents": ["a", "2"]}]}}
        """);
    WfInstance instance = WfFormatReader.read(file);

    assertThat(instance.schemaVersion()).isEqualTo("1.4");
    assertThat(instance.tasks()).extracting(WfInstance.Task::id).containsExactly("a", "b", "c");
    assertThat(instance.tasks().get(1).parents()).containsExactly(0);
    assertThat(instance.tasks().get(2).parents()).containsExactly(0, 1);
    assertThat(instance.edgeCount()).isEqualTo(3);
    assertThat(Replay.criticalPathSeconds(instance)).isEqualTo(3.5);
  }

  @Test
  void readsSchema16() throws Exception {
    Path file = write("v16.json", """
        {"name": "new", "schemaVersion": "1.6", "workflow": {
          "specification": {"tasks": [
            {"name": "x", "id": "x_1", "parents": [], "children": ["y_2"]},
            {"name": "y", "id": "y_2", "parents": ["x_1"], "children": []}], "files": []},
          "execution": {"makespanInSeconds": 1, "executedAt": "2024", "tasks": [
            {"id": "x_1", "runtimeInSeconds": 0.25}, {"id": "y_2", "runtimeInSeconds": 0.5}]}}}
        """);
    WfInstance instance = WfFormatReader.read(file);

    assertThat(instance.edgeCount()).isEqualTo(1); // declared on both ends, counted once
    assertThat(Replay.criticalPathSeconds(instance)).isEqualTo(0.75);
  }

  @Test
  void aCycleIsReportedWithItsPathAndTheFile() throws Exception {
    Path file = write("cycle.json", v15("""
        {"name": "a", "id": "a", "parents": ["c"]},
        {"name": "b", "id": "b", "parents": ["a"]},
        {"name": "c", "id": "c", "parents": ["b"]}""", "a", "b", "c"));
    WfInstance instance = WfFormatReader.read(file);

    WfFormatException e = catchThrowableOfType(WfFormatException.class,
        () -> Replay.of(file, instance, 1.0));
    assertThat(e).hasMessage(file + ": not a DAG: cycle: a -> b -> c -> a");
  }

  @Test
  void malformedInstancesNameTheFileAndTheTask() throws Exception {
    assertProblem("not-json.json", "{ nope", "not valid JSON at line 1, column 3: Unexpected "
        + "character ('n' (code 110)): was expecting double-quote to start field name");
    assertProblem("array.json", "[1, 2]", "not a WfFormat instance (expected a JSON object)");
    assertProblem("no-version.json", "{\"workflow\": {}}", "no schemaVersion");
    assertProblem("v13.json", "{\"schemaVersion\": \"1.3\", \"workflow\": {}}",
        "schemaVersion 1.3 is not supported (supported: 1.4, 1.5, 1.6)");
    assertProblem("no-tasks.json", "{\"schemaVersion\": \"1.5\", \"workflow\": {}}",
        "no task list at workflow.specification.tasks");
    assertProblem("unknown-parent.json", v15("""
        {"name": "a", "id": "a", "parents": ["ghost"]}""", "a"),
        "task 'a' lists parent \"ghost\", which is not a task of this workflow");
    assertProblem("duplicate.json", v15("""
        {"name": "a", "id": "a"}, {"name": "a2", "id": "a"}""", "a"),
        "duplicate task id 'a' (tasks #0 and #1)");
    assertProblem("no-runtime.json", """
        {"schemaVersion": "1.5", "workflow": {"specification": {"tasks": [
          {"name": "a", "id": "a"}, {"name": "b", "id": "b"}]},
          "execution": {"tasks": [{"id": "a", "runtimeInSeconds": 1}]}}}""",
        "task 'b' has no entry in workflow.execution.tasks (so no runtimeInSeconds)");
    assertProblem("negative.json", """
        {"schemaVersion": "1.5", "workflow": {"specification": {"tasks": [{"name": "a", "id": "a"}]},
          "execution": {"tasks": [{"id": "a", "runtimeInSeconds": -1}]}}}""",
        "task 'a' has an invalid runtimeInSeconds: -1");
    assertProblem("self.json", v15("""
        {"name": "a", "id": "a", "children": ["a"]}""", "a"),
        "task 'a' lists itself as its child (a cycle)");
  }

  private void assertProblem(String name, String json, String problem) throws IOException {
    Path file = write(name, json);
    WfFormatException e = catchThrowableOfType(WfFormatException.class,
        () -> WfFormatReader.read(file));
    assertThat(e).as(name).isNotNull();
    assertThat(e.getMessage()).isEqualTo(file + ": " + problem.strip()).as(name);
  }

  private static String v15(String tasks, String... ids) {
    StringBuilder exec = new StringBuilder();
    for (String id : ids) {
      exec.append(exec.isEmpty() ? "" : ", ")
          .append("{\"id\": \"").append(id).append("\", \"runtimeInSeconds\": 1}");
    }
    return "{\"schemaVersion\": \"1.5\", \"workflow\": {\"specification\": {\"tasks\": [" + tasks
        + "]}, \"execution\": {\"tasks\": [" + exec + "]}}}";
  }

  private Path write(String name, String json) throws IOException {
    return Files.writeString(dir.resolve(name), json);
  }
}
