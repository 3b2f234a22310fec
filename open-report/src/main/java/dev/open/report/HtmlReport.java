package dev.open.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.TreeSet;

import dev.open.dag.CacheOutcome;
import dev.open.dag.Dag;
import dev.open.dag.Node;
import dev.open.dag.NodeReport;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.TaskSkippedException;

/**
 * Writes a run as one self-contained HTML file that opens offline in any browser: no server, no
 * network, nothing beside it.
 *
 * <p>The page shows the run's totals; the DAG as a picture, nodes coloured by status ({@code map}
 * nodes as one node with their element count), laid out left to right by Eclipse ELK's layered
 * algorithm when the file is written, drawn on a canvas that pans and zooms; a timeline of every
 * task that ran, one row per lane (tasks of a backend packed into as many rows as ran at once),
 * failures in red and retried attempts marked, details on hover (with a {@link RunTimeline}, a
 * worker pool's tasks in lanes of the worker process that ran them); and a table of every node
 * (status, attempts, backend, start, duration, cache, error) that sorts by any column and filters
 * by text, status and backend.
 *
 * <p>Large runs stay usable: above {@value #DETAILED_LIMIT} nodes the picture shows groups of
 * nodes instead — nodes whose names differ only in their last number ({@code sample-17}, {@code
 * sample-18}; failing that, in any number; failing that, nodes at the same depth), with a count
 * and a bar of their statuses; the timeline draws on a canvas of at most 1,100 rows and the table
 * keeps only the rows in view. A 100,000-node run makes a file of about 5–7 MB that a browser
 * opens in about a second (docs/benchmarks.md §7).
 */
public final class HtmlReport {
  /** Runs of up to this many nodes are drawn node by node; larger ones by groups of nodes. */
  public static final int DETAILED_LIMIT = 1500;
  /** Groups are named by the nodes' names without their digits, unless that makes more. */
  private static final int GROUP_LIMIT = 300;
  private static final int MAX_ERROR = 2000;
  private static final String DATA_MARK = "/*OPEN_REPORT_DATA*/";

  private HtmlReport() {}

  /**
   * Writes the report of a run, without retry times (attempt counts still show).
   *
   * @param report the run's report
   * @param file the HTML file to write (its parent directories are created)
   * @return {@code file} as an absolute path
   * @throws UncheckedIOException if the file cannot be written
   */
  public static Path write(RunReport report, Path file) {
    return write(report, null, file);
  }

  /**
   * Writes the report of a run, its retries marked on the timeline.
   *
   * @param report the run's report
   * @param timeline the timeline that listened to the run, or null
   * @param file the HTML file to write (its parent directories are created)
   * @return {@code file} as an absolute path
   * @throws UncheckedIOException if the file cannot be written
   */
  public static Path write(RunReport report, RunTimeline timeline, Path file) {
    Objects.requireNonNull(report, "report");
    Objects.requireNonNull(file, "file");
    String html = render(report, timeline);
    Path target = file.toAbsolutePath();
    try {
      if (target.getParent() != null) {
        Files.createDirectories(target.getParent());
      }
      Files.writeString(target, html, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the report to " + target, e);
    }
    return target;
  }

  /**
   * Returns the report of a run as HTML.
   *
   * @param report the run's report
   * @param timeline the timeline that listened to the run, or null
   * @return the page
   */
  public static String render(RunReport report, RunTimeline timeline) {
    Objects.requireNonNull(report, "report");
    String template = template();
    int mark = template.indexOf(DATA_MARK);
    String data = data(report, timeline == null ? List.of() : timeline.retries(report.runId()),
        timeline == null ? Map.of() : timeline.placements(report.runId()));
    return template.substring(0, mark) + data + template.substring(mark + DATA_MARK.length());
  }

  private static String template() {
    try (InputStream in = HtmlReport.class.getResourceAsStream("report.html")) {
      if (in == null) {
        throw new IllegalStateException("report.html is missing from the open-report jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The page's data as one JSON object: column arrays, so 100k nodes stay compact. */
  static String data(RunReport report, List<RunTimeline.Retry> retries,
      Map<String, String> placements) {
    Dag dag = report.dag();
    List<Node<?>> nodes = dag.nodes();
    int n = nodes.size();
    Map<Node<?>, Integer> index = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      index.put(nodes.get(i), i);
    }
    Instant t0 = report.startedAt();
    NodeStatus[] statuses = NodeStatus.values();
    List<String> backends = new ArrayList<>();
    Map<String, Integer> backendIndex = new HashMap<>();
    String[] names = new String[n];
    int[] status = new int[n];
    int[] backend = new int[n];
    int[] attempts = new int[n];
    int[] elements = new int[n];
    int[] cache = new int[n];
    long[] start = new long[n];
    long[] duration = new long[n];
    // Errors as a table of distinct texts: the nodes skipped or cancelled because of one failure
    // share one text, so a failed 100k-node run does not carry 100k copies of it.
    int[] error = new int[n];
    List<String> errorTexts = new ArrayList<>();
    Map<String, Integer> errorIndex = new HashMap<>();
    int totalAttempts = 0;
    for (int i = 0; i < n; i++) {
      NodeReport r = report.node(nodes.get(i));
      names[i] = r.name();
      status[i] = r.status().ordinal();
      backend[i] = backendIndex.computeIfAbsent(r.backend(), b -> {
        backends.add(b);
        return backends.size() - 1;
      });
      attempts[i] = r.attempts();
      totalAttempts += r.attempts();
      elements[i] = nodes.get(i).isMap() ? Math.max(r.elements(), 0) : -1;
      cache[i] = r.cache().kind().ordinal();
      start[i] = r.startedAt() == null ? -1 : micros(Duration.between(t0, r.startedAt()));
      duration[i] = r.duration().map(HtmlReport::micros).orElse(-1L);
      error[i] = -1;
      if (r.error() != null) {
        String text = errorText(r);
        error[i] = errorIndex.computeIfAbsent(text, t -> {
          errorTexts.add(t);
          return errorTexts.size() - 1;
        });
      }
    }
    // The timeline's lane groups: a backend, or a backend's place (a worker) when it said one;
    // in order of backend, then of place (pid 98 before pid 100).
    record Place(int backend, String where) {}
    Comparator<Place> byBackendThenPlace = Comparator.comparingInt(Place::backend)
        .thenComparing(p -> p.where() == null ? "" : p.where().replaceAll("[0-9]+", ""))
        .thenComparingLong(p -> p.where() == null ? -1 : digits(p.where()))
        .thenComparing(p -> p.where() == null ? "" : p.where());
    Place[] placeOf = new Place[n];
    TreeSet<Place> places = new TreeSet<>(byBackendThenPlace);
    for (int i = 0; i < n; i++) {
      placeOf[i] = new Place(backend[i], placements.get(names[i]));
      places.add(placeOf[i]);
    }
    Map<Place, Integer> groupIndex = new HashMap<>();
    List<String> groupLabels = new ArrayList<>();
    for (Place p : places) {
      groupIndex.put(p, groupLabels.size());
      groupLabels.add(backends.get(p.backend()) + (p.where() == null ? "" : " \u00b7 " + p.where()));
    }
    int[] laneGroup = new int[n];
    for (int i = 0; i < n; i++) {
      laneGroup[i] = groupIndex.get(placeOf[i]);
    }
    int[] lane = lanes(start, duration, laneGroup, groupLabels.size());
    int[] lanesPerGroup = new int[groupLabels.size()];
    for (int i = 0; i < n; i++) {
      if (lane[i] >= 0) {
        lanesPerGroup[laneGroup[i]] = Math.max(lanesPerGroup[laneGroup[i]], lane[i] + 1);
      }
    }

    Json json = new Json(64 * n + 4096);
    json.open();
    json.key("dag").value(dag.name());
    json.key("version").value(dag.version());
    json.key("runId").value(report.runId());
    json.key("status").value(report.status().name());
    json.key("startedAt").value(t0.toString());
    json.key("durationUs").value(micros(report.duration()));
    json.key("failure").value(report.failure().map(HtmlReport::describe).orElse(null));
    json.key("edgeCount").value(dag.edgeCount());
    json.key("totalAttempts").value(totalAttempts);
    json.key("statuses").openArray();
    for (NodeStatus s : statuses) {
      json.value(s.name());
    }
    json.closeArray();
    json.key("cacheKinds").openArray();
    for (CacheOutcome.Kind k : CacheOutcome.Kind.values()) {
      json.value(k.name());
    }
    json.closeArray();
    json.key("backends").array(backends.toArray(String[]::new));
    json.key("laneGroups").array(groupLabels.toArray(String[]::new));
    json.key("lanes").array(lanesPerGroup);
    json.key("nodes").open();
    json.key("name").array(names);
    json.key("status").array(status);
    json.key("backend").array(backend);
    json.key("attempts").array(attempts);
    json.key("elements").array(elements);
    json.key("cache").array(cache);
    json.key("start").array(start);
    json.key("duration").array(duration);
    json.key("laneGroup").array(laneGroup);
    json.key("lane").array(lane);
    json.key("error").array(error);
    json.close();
    json.key("errors").array(errorTexts.toArray(String[]::new));
    json.key("retries").openArray();
    Map<String, Integer> byName = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      byName.put(names[i], i);
    }
    for (RunTimeline.Retry retry : retries) {
      Integer i = byName.get(retry.node());
      if (i == null) {
        continue;
      }
      json.openArray().value(i).value(micros(Duration.between(t0, retry.failedAt())))
          .value(retry.attempt()).value(micros(retry.ran())).value(clip(retry.error()))
          .closeArray();
    }
    json.closeArray();
    json.key("graph");
    graph(json, dag, nodes, index, names, status, elements, statuses.length);
    json.close();
    return json.toString();
  }

  /**
   * Packs the tasks of each group (a backend, or one of its workers) into lanes: a task goes to
   * the lane that freed up first, or a new one, so a group has as many lanes as it ran tasks at
   * once. -1 for tasks that never ran.
   */
  static int[] lanes(long[] start, long[] duration, int[] group, int groups) {
    int n = start.length;
    Integer[] order = new Integer[n];
    int ran = 0;
    for (int i = 0; i < n; i++) {
      if (start[i] >= 0) {
        order[ran++] = i;
      }
    }
    Arrays.sort(order, 0, ran, (a, b) -> Long.compare(start[a], start[b]));
    int[] lane = new int[n];
    Arrays.fill(lane, -1);
    List<PriorityQueue<long[]>> free = new ArrayList<>(); // per group: {end, lane}
    int[] used = new int[groups];
    for (int b = 0; b < groups; b++) {
      free.add(new PriorityQueue<>((p, q) -> Long.compare(p[0], q[0])));
    }
    for (int k = 0; k < ran; k++) {
      int i = order[k];
      PriorityQueue<long[]> queue = free.get(group[i]);
      long end = start[i] + Math.max(0, duration[i]);
      long[] slot = queue.peek();
      if (slot != null && slot[0] <= start[i]) {
        queue.poll();
        slot[0] = end;
      } else {
        slot = new long[] {end, used[group[i]]++};
      }
      lane[i] = (int) slot[1];
      queue.add(slot);
    }
    return lane;
  }

  /** The picture: every node, or groups of nodes for large DAGs, laid out by ELK. */
  private static void graph(Json json, Dag dag, List<Node<?>> nodes, Map<Node<?>, Integer> index,
      String[] names, int[] status, int[] elements, int kinds) {
    int n = nodes.size();
    List<int[]> edgeList = new ArrayList<>();
    if (n <= DETAILED_LIMIT) {
      double[] w = new double[n];
      double[] h = new double[n];
      for (int i = 0; i < n; i++) {
        String label = elements[i] >= 0 ? names[i] + " \u00d7" + elements[i] : names[i];
        w[i] = boxWidth(label);
        h[i] = 26;
      }
      for (int i = 0; i < n; i++) {
        for (Node<?> input : nodes.get(i).inputs()) {
          edgeList.add(new int[] {index.get(input), i});
        }
      }
      Layout layout = layout(w, h, edgeList);
      json.open().key("mode").value("nodes");
      boxes(json, layout, w, h);
      edges(json, layout);
      json.close();
      return;
    }
    // Groups: nodes whose names differ only in their last number (sample-17, sample-18); if that
    // makes too many groups, only in numbers; if that still does, levels of depth.
    int[] group = new int[n];
    List<String> labels = new ArrayList<>();
    String by = "name";
    if (!groupByName(names, "[0-9]+(?=[^0-9]*$)", group, labels)
        && !groupByName(names, "[0-9]+", group, labels)) {
      by = "level";
      int[] level = levels(nodes, index);
      int deepest = Arrays.stream(level).max().orElse(0);
      int perGroup = deepest / GROUP_LIMIT + 1;
      labels.clear();
      for (int l = 0; l <= deepest; l += perGroup) {
        int last = Math.min(deepest, l + perGroup - 1);
        labels.add(last == l ? "level " + l : "levels " + l + "\u2013" + last);
      }
      for (int i = 0; i < n; i++) {
        group[i] = level[i] / perGroup;
      }
    }
    int g = labels.size();
    int[] size = new int[g];
    int[][] counts = new int[g][kinds];
    for (int i = 0; i < n; i++) {
      size[group[i]]++;
      counts[group[i]][status[i]]++;
    }
    Map<Long, int[]> between = new LinkedHashMap<>(); // (from, to) -> {from, to, edges}
    for (int i = 0; i < n; i++) {
      for (Node<?> input : nodes.get(i).inputs()) {
        int from = group[index.get(input)];
        int to = group[i];
        if (from != to) {
          between.computeIfAbsent(((long) from << 32) | to, k -> new int[] {from, to, 0})[2]++;
        }
      }
    }
    double[] w = new double[g];
    double[] h = new double[g];
    for (int k = 0; k < g; k++) {
      w[k] = Math.max(boxWidth(labels.get(k)), boxWidth(String.format("%,d nodes", size[k])));
      h[k] = 44;
    }
    edgeList.addAll(between.values());
    Layout layout = layout(w, h, edgeList);
    json.open().key("mode").value("groups").key("groupedBy").value(by);
    json.key("group").array(group);
    json.key("labels").array(labels.toArray(String[]::new));
    json.key("sizes").array(size);
    json.key("counts").openArray();
    for (int[] c : counts) {
      json.array(c);
    }
    json.closeArray();
    json.key("edgeWeights").openArray();
    for (int[] e : between.values()) {
      json.value(e[2]);
    }
    json.closeArray();
    boxes(json, layout, w, h);
    edges(json, layout);
    json.close();
  }

  /**
   * Groups nodes by their names with {@code digits} replaced by {@code #}, unless that makes more
   * than {@link #GROUP_LIMIT} groups.
   *
   * @return whether the grouping was kept
   */
  private static boolean groupByName(String[] names, String digits, int[] group,
      List<String> labels) {
    java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(digits);
    Map<String, Integer> groupOf = new HashMap<>();
    labels.clear();
    for (int i = 0; i < names.length; i++) {
      String family = pattern.matcher(names[i]).replaceAll("#");
      Integer k = groupOf.get(family);
      if (k == null) {
        if (labels.size() == GROUP_LIMIT) {
          return false;
        }
        k = labels.size();
        groupOf.put(family, k);
        labels.add(family);
      }
      group[i] = k;
    }
    return true;
  }

  private static Layout layout(double[] w, double[] h, List<int[]> edgeList) {
    int[] from = new int[edgeList.size()];
    int[] to = new int[edgeList.size()];
    for (int k = 0; k < from.length; k++) {
      from[k] = edgeList.get(k)[0];
      to[k] = edgeList.get(k)[1];
    }
    return Layout.of(w, h, from, to);
  }

  private static void boxes(Json json, Layout layout, double[] w, double[] h) {
    json.key("width").value(Math.ceil(layout.width)).key("height").value(Math.ceil(layout.height));
    json.key("boxes").openArray();
    for (int i = 0; i < w.length; i++) {
      json.value(round(layout.x[i])).value(round(layout.y[i])).value(w[i]).value(h[i]);
    }
    json.closeArray();
  }

  private static void edges(Json json, Layout layout) {
    json.key("edges").openArray();
    for (double[] route : layout.edges) {
      json.openArray();
      for (double v : route) {
        json.value(round(v));
      }
      json.closeArray();
    }
    json.closeArray();
  }

  /** Each node's depth: the longest chain of inputs above it (Kahn's order over the inputs). */
  private static int[] levels(List<Node<?>> nodes, Map<Node<?>, Integer> index) {
    int n = nodes.size();
    int[] waiting = new int[n];
    List<List<Integer>> consumers = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      consumers.add(new ArrayList<>(2));
    }
    for (int i = 0; i < n; i++) {
      for (Node<?> input : nodes.get(i).inputs()) {
        consumers.get(index.get(input)).add(i);
        waiting[i]++;
      }
    }
    int[] level = new int[n];
    int[] queue = new int[n];
    int head = 0;
    int tail = 0;
    for (int i = 0; i < n; i++) {
      if (waiting[i] == 0) {
        queue[tail++] = i;
      }
    }
    while (head < tail) {
      int i = queue[head++];
      for (int c : consumers.get(i)) {
        level[c] = Math.max(level[c], level[i] + 1);
        if (--waiting[c] == 0) {
          queue[tail++] = c;
        }
      }
    }
    return level;
  }

  /** The number in {@code s} (its digits, in order), 0 if none, capped: for sorting places. */
  private static long digits(String s) {
    String d = s.replaceAll("[^0-9]", "");
    return d.isEmpty() ? 0 : d.length() > 18 ? Long.MAX_VALUE : Long.parseLong(d);
  }

  private static double boxWidth(String label) {
    return Math.min(280, Math.max(64, 7.2 * label.length() + 22));
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static long micros(Duration d) {
    return d.toNanos() / 1000;
  }

  /**
   * What the page says went wrong with a node: the whole chain for a failure; the culprit for a
   * skip; the reason, without the chain, for a cancellation.
   */
  private static String errorText(NodeReport r) {
    return switch (r.status()) {
      case FAILED -> describe(r.error());
      case SKIPPED -> r.error() instanceof TaskSkippedException skipped
          ? "skipped: '" + skipped.failedNode() + "' did not succeed"
          : clip(RunTimeline.describe(r.error()));
      default -> clip(RunTimeline.describe(r.error()));
    };
  }

  private static String describe(Throwable error) {
    StringBuilder b = new StringBuilder(RunTimeline.describe(error));
    for (Throwable cause = error.getCause(); cause != null && cause != cause.getCause()
        && b.length() < MAX_ERROR; cause = cause.getCause()) {
      b.append("\ncaused by ").append(RunTimeline.describe(cause));
    }
    return clip(b.toString());
  }

  /** Cuts {@code s} to {@value #MAX_ERROR} characters, never between the halves of one. */
  static String clip(String s) {
    if (s.length() <= MAX_ERROR) {
      return s;
    }
    int end = Character.isHighSurrogate(s.charAt(MAX_ERROR - 1)) ? MAX_ERROR - 1 : MAX_ERROR;
    return s.substring(0, end) + "\u2026";
  }
}
