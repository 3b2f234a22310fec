package dev.open.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.FunctionRef;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;

class HtmlReportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  /** The data the page draws from, as written into it. */
  static JsonNode data(Path html) throws Exception {
    String page = Files.readString(html, StandardCharsets.UTF_8);
    String open = "<script type=\"application/json\" id=\"open-data\">";
    int from = page.indexOf(open) + open.length();
    return JSON.readTree(page.substring(from, page.indexOf("</script>", from)));
  }

  static int index(JsonNode data, String node) {
    JsonNode names = data.get("nodes").get("name");
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).asText().equals(node)) {
        return i;
      }
    }
    throw new AssertionError("no node " + node);
  }

  static String error(JsonNode data, String node) {
    int e = data.get("nodes").get("error").get(index(data, node)).asInt();
    return e < 0 ? null : data.get("errors").get(e).asText();
  }

  static String status(JsonNode data, String node) {
    return data.get("statuses").get(data.get("nodes").get("status").get(index(data, node)).asInt())
        .asText();
  }

  @Test
  void everyNodeIsReportedWithItsStatusAttemptsAndError() throws Exception {
    RunTimeline timeline = new RunTimeline();
    RunReport report = Runs.mixed(timeline);
    Path html = HtmlReport.write(report, timeline, dir.resolve("sub/report.html"));

    assertThat(html).isAbsolute().exists();
    JsonNode data = data(html);
    assertThat(data.get("dag").asText()).isEqualTo("mixed <demo>");
    assertThat(data.get("status").asText()).isEqualTo("FAILED");
    assertThat(status(data, "square")).isEqualTo("SUCCEEDED");
    assertThat(status(data, "flaky")).isEqualTo("SUCCEEDED");
    assertThat(status(data, "broken")).isEqualTo("FAILED");
    assertThat(status(data, "after-broken")).isEqualTo("SKIPPED");
    JsonNode nodes = data.get("nodes");
    assertThat(nodes.get("elements").get(index(data, "square")).asInt()).isEqualTo(5);
    assertThat(nodes.get("elements").get(index(data, "flaky")).asInt()).isEqualTo(-1);
    assertThat(nodes.get("attempts").get(index(data, "flaky")).asInt()).isEqualTo(2);
    assertThat(error(data, "broken")).contains("IllegalArgumentException")
        .contains("</script><b>not markup</b>");
    assertThat(error(data, "after-broken")).isEqualTo("skipped: 'broken' did not succeed");
    assertThat(nodes.get("error").get(index(data, "flaky")).asInt()).isEqualTo(-1);
    assertThat(nodes.get("lane").get(index(data, "after-broken")).asInt()).isEqualTo(-1);
    assertThat(nodes.get("lane").get(index(data, "flaky")).asInt()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void retriesRecordedByTheTimelineAreMarkedAtTheirNode() throws Exception {
    RunTimeline timeline = new RunTimeline();
    RunReport report = Runs.mixed(timeline);
    JsonNode data = data(HtmlReport.write(report, timeline, dir.resolve("r.html")));

    JsonNode retries = data.get("retries");
    assertThat(retries).hasSize(1);
    assertThat(retries.get(0).get(0).asInt()).isEqualTo(index(data, "flaky"));
    assertThat(retries.get(0).get(2).asInt()).isEqualTo(1);
    assertThat(retries.get(0).get(4).asText()).contains("first attempt fails");
    // without a timeline the page has no retry times, but the attempts still show
    JsonNode bare = data(HtmlReport.write(report, dir.resolve("bare.html")));
    assertThat(bare.get("retries")).isEmpty();
  }

  /** A failure that skips a thousand nodes is written once, not once per skipped node. */
  @Test
  void nodesSkippedForOneFailureShareOneText() throws Exception {
    DagBuilder b = Dag.builder("doomed");
    Node<Integer> root = b.task("root", () -> {
      throw new IllegalStateException("x".repeat(1500));
    });
    for (int i = 0; i < 1000; i++) {
      b.task("child-" + i, root, x -> x);
    }
    RunReport report = DagExecutor.builder().withFailureMode(FailureMode.CONTINUE).build()
        .run(b.build());
    Path html = HtmlReport.write(report, dir.resolve("doomed.html"));
    JsonNode data = data(html);

    assertThat(data.get("errors")).hasSize(2);
    assertThat(error(data, "child-17")).isEqualTo("skipped: 'root' did not succeed");
    assertThat(error(data, "root")).contains("x".repeat(1000));
    assertThat(Files.size(html)).isLessThan(400_000); // 1,000 copies would make 2 MB
  }

  /** Text cut at the limit is cut between characters, never inside one. */
  @Test
  void errorsCutAtTheLimitStayWholeCharacters() throws Exception {
    DagBuilder b = Dag.builder("emoji");
    b.task("smile", () -> {
      throw new IllegalStateException("\ud83d\ude00".repeat(1500)); // 2 chars each
    });
    RunReport report = DagExecutor.builder().build().run(b.build());

    JsonNode data = data(HtmlReport.write(report, dir.resolve("emoji.html")));
    String text = error(data, "smile");
    assertThat(text).endsWith("\u2026").contains("\ud83d\ude00");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      assertThat(Character.isHighSurrogate(c) ? i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))
          : !Character.isLowSurrogate(c) || Character.isHighSurrogate(text.charAt(i - 1)))
          .as("character %d of the error is half of a pair", i).isTrue();
    }
    // a lone half from a task survives as an escape instead of failing the write
    Json json = new Json(16);
    json.value("a\ud83db");
    assertThat(json.toString()).isEqualTo("\"a\\ud83db\"");
  }

  @Test
  void textFromTasksCannotCloseTheDataScript() throws Exception {
    RunReport report = Runs.mixed();
    String page = HtmlReport.render(report, null);

    // one closing tag per script element of the template: the data's own were escaped
    int scripts = page.split("<script", -1).length - 1;
    assertThat(page.split("</script>", -1).length - 1).isEqualTo(scripts);
    assertThat(page).doesNotContain("<b>not markup</b>");
  }

  @Test
  void smallDagsAreDrawnNodeByNodeWithEveryEdgeRouted() throws Exception {
    RunReport report = Runs.layered(4, 10, 0);
    JsonNode graph = data(HtmlReport.write(report, dir.resolve("g.html"))).get("graph");

    assertThat(graph.get("mode").asText()).isEqualTo("nodes");
    assertThat(graph.get("boxes")).hasSize(4 * 40);
    assertThat(graph.get("edges")).hasSize(report.dag().edgeCount());
    // left to right: a node of a later layer lies right of the nodes it reads
    JsonNode boxes = graph.get("boxes");
    JsonNode data = data(HtmlReport.write(report, dir.resolve("g.html")));
    int first = index(data, "step0-part0");
    int later = index(data, "step1-part0");
    assertThat(boxes.get(4 * later).asDouble())
        .isGreaterThan(boxes.get(4 * first).asDouble() + boxes.get(4 * first + 2).asDouble());
  }

  @Test
  void largeDagsAreDrawnAsGroupsThatCountEveryNode() throws Exception {
    RunReport report = Runs.layered(3, 600, 0);
    JsonNode data = data(HtmlReport.write(report, dir.resolve("big.html")));
    JsonNode graph = data.get("graph");

    assertThat(graph.get("mode").asText()).isEqualTo("groups");
    assertThat(graph.get("groupedBy").asText()).isEqualTo("name");
    List<String> labels = new ArrayList<>();
    graph.get("labels").forEach(l -> labels.add(l.asText()));
    assertThat(labels).containsExactly("step0-part#", "step1-part#", "step2-part#");
    graph.get("sizes").forEach(size -> assertThat(size.asInt()).isEqualTo(600));
    assertThat(graph.get("boxes")).hasSize(3 * 4);
    assertThat(graph.get("edges")).hasSize(2); // step0 -> step1 -> step2, each edge once
  }

  @Test
  void tooManyNameGroupsFallBackToLevels() throws Exception {
    // names that differ in letters, not digits, make as many groups as nodes
    DagBuilder b = Dag.builder("letters");
    Node<Integer> root = b.task("root", () -> 1);
    for (int i = 0; i < 2000; i++) {
      StringBuilder name = new StringBuilder();
      for (char digit : Integer.toString(i).toCharArray()) {
        name.append((char) ('a' + digit - '0'));
      }
      b.task(name + "-x", root, x -> x);
    }
    RunReport wide = DagExecutor.builder().build().run(b.build());
    JsonNode graph = data(HtmlReport.write(wide, dir.resolve("wide.html"))).get("graph");

    assertThat(graph.get("groupedBy").asText()).isEqualTo("level");
    assertThat(graph.get("labels")).hasSize(2);
    assertThat(graph.get("sizes").get(0).asInt() + graph.get("sizes").get(1).asInt())
        .isEqualTo(2001);
  }

  /** A backend that says where it runs calls gets a lane group per place, in numeric order. */
  @Test
  void eachPlaceABackendNamesHasLanesOfItsOwn() throws Exception {
    Backend workers = new Backend() {
      @Override
      public String name() {
        return "pool";
      }

      @Override
      public CompletableFuture<?> invoke(Invocation call) {
        call.placedOn(call.node().endsWith("-a") ? "pid 10" : "pid 9");
        return CompletableFuture.completedFuture(1);
      }
    };
    DagBuilder b = Dag.builder("places");
    b.call("one-a", FunctionRef.of(workers, "f", Integer.class));
    b.call("two-b", FunctionRef.of(workers, "f", Integer.class));
    b.task("java", () -> 1);
    RunTimeline timeline = new RunTimeline();
    RunReport report = DagExecutor.builder().withListener(timeline).build().run(b.build());

    assertThat(timeline.placements(report.runId()))
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("one-a", "pid 10", "two-b", "pid 9"));
    JsonNode data = data(HtmlReport.write(report, timeline, dir.resolve("places.html")));
    List<String> groups = new ArrayList<>();
    data.get("laneGroups").forEach(g -> groups.add(g.asText()));
    assertThat(groups).containsExactly("pool \u00b7 pid 9", "pool \u00b7 pid 10", "java");
    JsonNode laneGroup = data.get("nodes").get("laneGroup");
    assertThat(groups.get(laneGroup.get(index(data, "one-a")).asInt())).endsWith("pid 10");
    assertThat(groups.get(laneGroup.get(index(data, "java")).asInt())).isEqualTo("java");
  }

  /** Lanes, from a seed: no two tasks of a lane overlap, and a backend has as many as ran at once. */
  @Test
  void lanesNeverOverlapAndAreAsManyAsTheMostTasksRunningAtOnce() {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      int n = 1 + random.nextInt(300);
      int backends = 1 + random.nextInt(3);
      long[] start = new long[n];
      long[] duration = new long[n];
      int[] backend = new int[n];
      for (int i = 0; i < n; i++) {
        start[i] = random.nextInt(10) == 0 ? -1 : random.nextInt(1000);
        duration[i] = start[i] < 0 ? -1 : random.nextInt(200);
        backend[i] = random.nextInt(backends);
      }
      int[] lane = HtmlReport.lanes(start, duration, backend, backends);

      for (int i = 0; i < n; i++) {
        assertThat(lane[i] < 0).as("seed %d node %d", seed, i).isEqualTo(start[i] < 0);
        for (int j = i + 1; j < n; j++) {
          if (lane[i] >= 0 && lane[i] == lane[j] && backend[i] == backend[j]) {
            boolean apart = start[i] + duration[i] <= start[j] || start[j] + duration[j] <= start[i];
            assertThat(apart).as("seed %d: %d and %d share lane %d", seed, i, j, lane[i]).isTrue();
          }
        }
      }
      for (int b = 0; b < backends; b++) {
        int most = 0;
        int lanes = 0;
        for (int i = 0; i < n; i++) {
          if (backend[i] == b && start[i] >= 0) {
            lanes = Math.max(lanes, lane[i] + 1);
            int running = 0;
            for (int j = 0; j < n; j++) {
              // j is running at the instant i starts (a task ending then has freed its lane)
              if (backend[j] == b && start[j] >= 0 && start[j] <= start[i]
                  && start[i] < start[j] + duration[j] || j == i) {
                running++;
              }
            }
            most = Math.max(most, running);
          }
        }
        assertThat(lanes).as("seed %d backend %d", seed, b).isEqualTo(most);
      }
    }
  }

  @Test
  void aReportThatCannotBeWrittenSaysWhere() throws Exception {
    RunReport report = Runs.mixed();
    Path blocker = Files.writeString(dir.resolve("file"), "x");

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> HtmlReport.write(report, blocker.resolve("report.html")))
        .isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining(blocker.resolve("report.html").toString());
    assertThat(Arrays.asList(dir.toFile().list())).containsExactly("file");
  }
}
