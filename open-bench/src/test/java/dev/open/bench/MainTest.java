package dev.open.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class MainTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int replay(String... args) {
    return Main.replay(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  /** A workflow of two tasks, a (10 s) then b (30 s). */
  private Path twoTasks() throws java.io.IOException {
    return Files.writeString(dir.resolve("two.json"), """
        {"name": "two", "schemaVersion": "1.5", "workflow": {
          "specification": {"tasks": [
            {"name": "a", "id": "a", "children": ["b"]}, {"name": "b", "id": "b"}]},
          "execution": {"tasks": [
            {"id": "a", "runtimeInSeconds": 10}, {"id": "b", "runtimeInSeconds": 30}]}}}
        """);
  }

  @Test
  void printsOneJsonLineWithTheRequiredFields() throws Exception {
    Path file = twoTasks();

    int code = replay(file.toString(), "--scale", "0.001", "--max-parallel", "4");

    assertThat(code).isZero();
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text.lines()).hasSize(1);
    JsonNode line = new ObjectMapper().readTree(text);
    assertThat(line.get("tasks").asInt()).isEqualTo(2);
    assertThat(line.get("edges").asInt()).isEqualTo(1);
    assertThat(line.get("criticalPathSeconds").asDouble()).isEqualTo(0.04);
    assertThat(line.get("makespanSeconds").asDouble()).isGreaterThanOrEqualTo(0.04);
    assertThat(line.get("precedenceViolations").asInt()).isZero();
    assertThat(line.get("exactlyOnce").asBoolean()).isTrue();
    assertThat(line.get("maxParallel").asInt()).isEqualTo(4);
  }

  @Test
  void copiesReplayTheWorkflowSideBySideAndTheReportShowsEveryTask() throws Exception {
    Path file = twoTasks();
    Path html = dir.resolve("reports/two.html");

    int code = replay(file.toString(), "--scale", "0.0001", "--copies", "3", "--report",
        html.toString(), "--quiet");

    assertThat(code).isZero();
    JsonNode line = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(line.get("tasks").asInt()).isEqualTo(6);
    assertThat(line.get("edges").asInt()).isEqualTo(3);
    assertThat(line.get("precedenceViolations").asInt()).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("report: " + html.toAbsolutePath());
    String page = Files.readString(html);
    assertThat(page).contains("\"copy0:a\"", "\"copy2:b\"", "<canvas id=\"graph\"");
    assertThat(replay(file.toString(), "--copies", "1.5")).isEqualTo(2);
    assertThat(replay(file.toString(), "--report", dir.toString(), "--quiet")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--report " + dir + ": not a file that can be written");
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--copies needs a whole number");
  }

  @Test
  void aReplayOnAStoreLoadsEverythingTheSecondTimeAndExplainsWhy() throws Exception {
    Path file = twoTasks();
    String store = dir.resolve("store").toString();

    assertThat(replay(file.toString(), "--scale", "0.001", "--store", store)).isZero();
    out.reset();
    assertThat(replay(file.toString(), "--scale", "0.001", "--store", store, "--explain"))
        .isZero();

    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    JsonNode result = new ObjectMapper().readTree(lines.get(lines.size() - 1));
    assertThat(result.get("cached").asInt()).isEqualTo(2);
    assertThat(result.get("exactlyOnce").asBoolean()).isTrue(); // none ran, as none should
    assertThat(lines).anyMatch(l -> l.matches(" +2  HIT — found"));
    assertThat(lines).anyMatch(l -> l.matches("a +CACHED +HIT +[0-9a-f]{12} found"));
    assertThat(replay(file.toString(), "--explain")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--explain needs --store DIR");
  }

  @Test
  void malformedInputExitsWith2AndNamesTheFileAndTask() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.json"), """
        {"name": "bad", "schemaVersion": "1.5", "workflow": {
          "specification": {"tasks": [{"name": "a", "id": "a", "parents": ["zz"]}]},
          "execution": {"tasks": [{"id": "a", "runtimeInSeconds": 1}]}}}
        """);

    assertThat(replay(file.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(file.toString()).contains("task 'a' lists parent \"zz\"");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void badUsageExitsWith2() {
    assertThat(replay()).isEqualTo(2);
    assertThat(replay("x.json", "--scale", "-1")).isEqualTo(2);
    assertThat(replay("x.json", "--scale", "1", "--critical-path", "2")).isEqualTo(2);
    assertThat(replay("x.json", "--max-parallel", "1.5")).isEqualTo(2);
    assertThat(replay(dir.resolve("missing.json").toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage:").contains("no such file");
  }
}
