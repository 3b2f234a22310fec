package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * MonitoringExample serves, in Prometheus' text format, every metric that the Grafana dashboard
 * and the alerting rules of docs/operations use, with the counts its DAG's planned failures
 * make. (examples/monitoring/check-prometheus.sh checks the same against a real Prometheus.)
 */
class MonitoringExampleTest {
  private static final Path REPO = Path.of(System.getProperty("open.repo", "..")).toAbsolutePath();
  private static final Pattern METRIC = Pattern.compile("\\bopen_[a-z0-9_]+\\b");

  @Test
  void servesEveryMetricOfTheDashboardAndTheRules() throws Exception {
    String python = System.getProperty("open.python", "python3");
    Process probe = new ProcessBuilder(python, "-c", "import numpy").start();
    assumeThat(probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0)
        .as("NumPy is importable by " + python + " (make test uses the project venv)").isTrue();

    String body;
    try (MonitoringExample.Handle example = MonitoringExample.start(0, 12)) {
      assertThat(example.port()).isPositive();
      assertThat(example.awaitRuns(Duration.ofMinutes(2))).as("12 runs within 2 minutes").isTrue();
      // runs 3, 6, 9 and 12 retry fetch-source once and succeed; run 10 fails describe-labels
      assertThat(example.runsFinished()).isEqualTo(12);
      assertThat(example.runsFailed()).isEqualTo(1);

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(example.metricsUri())
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type"))
          .hasValue("text/plain; version=0.0.4; charset=utf-8");
      body = response.body();

      HttpResponse<String> post = http.send(HttpRequest.newBuilder(example.metricsUri())
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }

    Set<String> used = new TreeSet<>();
    for (String file : new String[] {"docs/operations/grafana/open-dashboard.json",
        "docs/operations/prometheus/open-alerts.yml"}) {
      Matcher m = METRIC.matcher(Files.readString(REPO.resolve(file)));
      while (m.find()) {
        used.add(m.group());
      }
    }
    assertThat(used).hasSizeGreaterThan(20);
    for (String name : used) {
      assertThat(body).as("a sample of %s", name).containsPattern("(?m)^" + name + "[{ ]");
    }

    String dag = "dag=\"monitoring-demo\"";
    assertThat(sum(body, "open_dag_runs_started_total", dag)).isEqualTo(12);
    assertThat(sum(body, "open_dag_runs_finished_total", dag, "status=\"SUCCEEDED\""))
        .isEqualTo(11);
    assertThat(sum(body, "open_dag_runs_finished_total", dag, "status=\"FAILED\"")).isEqualTo(1);
    assertThat(sum(body, "open_dag_tasks_retried_total", dag)).isEqualTo(5);
    assertThat(sum(body, "open_dag_tasks_failed_total", dag, "node=\"describe-labels\""))
        .isEqualTo(1);
    assertThat(sum(body, "open_dag_tasks_skipped_total", dag, "node=\"report\"")).isEqualTo(1);
    assertThat(sum(body, "open_dag_tasks_succeeded_total", dag, "backend=\"native\""))
        .isEqualTo(24);
    assertThat(sum(body, "open_dag_tasks_succeeded_total", dag, "node=\"score\""))
        .as("a map node is one task, whatever its elements").isEqualTo(12);
    assertThat(sum(body, "open_dag_runs_active", dag)).isZero();
    assertThat(sum(body, "open_workers_size", "pool=\"python\"")).isEqualTo(2);
    assertThat(sum(body, "open_workers_calls_total", "pool=\"python\"")).isEqualTo(12 * 3 + 1);
  }

  /** Adds up the samples of {@code name} whose labels include every one of {@code labels}. */
  private static double sum(String exposition, String name, String... labels) {
    double total = 0;
    boolean found = false;
    for (String line : exposition.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      int end = line.lastIndexOf(' ');
      String series = line.substring(0, end);
      boolean matches = true;
      for (String label : labels) {
        matches &= series.contains(label);
      }
      if (matches) {
        total += Double.parseDouble(line.substring(end + 1));
        found = true;
      }
    }
    assertThat(found).as("a sample of %s with %s", name, String.join(", ", labels)).isTrue();
    return total;
  }
}
