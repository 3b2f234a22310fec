package dev.open.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;
import dev.open.dag.export.DagExport;
import dev.open.dag.metrics.DagMetrics;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;

class ObservabilityTest {

  private static Dag sample(int failuresBeforeSuccess) {
    int[] left = {failuresBeforeSuccess};
    DagBuilder b = Dag.builder("etl");
    Node<Integer> load = b.task("load", () -> 1);
    Node<Integer> flaky = b.node("flaky")
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ZERO).build())
        .task(load, x -> {
          synchronized (left) {
            if (left[0]-- > 0) {
              throw new IllegalStateException("transient");
            }
          }
          return x + 1;
        });
    Node<Integer> bad = b.task("bad", load, x -> {
      throw new IllegalArgumentException("bad");
    });
    b.task("skipped", bad, x -> x);
    b.task("save", flaky, x -> x);
    return b.build();
  }

  @Test
  void listenersSeeEveryEventInOrder() {
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    ExecutionListener recorder = new ExecutionListener() {
      @Override
      public void onRunStarted(RunStartedEvent e) {
        events.add("run-started " + e.dag() + " " + e.nodes());
      }

      @Override
      public void onTaskStarted(TaskEvent e) {
        events.add("started " + e.node());
      }

      @Override
      public void onTaskRetrying(TaskEvent e, Duration delay) {
        events.add("retrying " + e.node() + " " + e.attempt() + " " + e.error().getMessage());
      }

      @Override
      public void onTaskSucceeded(TaskEvent e) {
        events.add("succeeded " + e.node() + " " + e.attempt());
      }

      @Override
      public void onTaskFailed(TaskEvent e) {
        events.add("failed " + e.node());
      }

      @Override
      public void onTaskSkipped(TaskEvent e) {
        events.add("skipped " + e.node() + " " + e.started());
      }

      @Override
      public void onRunFinished(RunReport r) {
        events.add("run-finished " + r.status());
      }
    };
    ExecutionListener throwing = new ExecutionListener() {
      @Override
      public void onTaskStarted(TaskEvent e) {
        throw new IllegalStateException("listener bug");
      }
    };
    RunReport report = DagExecutor.builder()
        .withFailureMode(FailureMode.CONTINUE)
        .withListener(throwing)
        .withListener(recorder)
        .build().run(sample(2));

    assertThat(report.status()).isEqualTo(RunStatus.FAILED);
    assertThat(events.get(0)).isEqualTo("run-started etl 5");
    assertThat(events.get(events.size() - 1)).isEqualTo("run-finished FAILED");
    assertThat(events).containsSubsequence("started flaky", "retrying flaky 1 transient",
        "retrying flaky 2 transient", "succeeded flaky 3", "started save", "succeeded save 1");
    assertThat(events).containsSubsequence("started bad", "failed bad", "skipped skipped false");
    assertThat(events).filteredOn(e -> e.startsWith("started")).hasSize(4);
  }

  @Test
  void micrometerCountsTasksRetriesAndDurations() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DagExecutor executor = DagExecutor.builder()
        .withFailureMode(FailureMode.CONTINUE)
        .withListener(new DagMetrics(registry))
        .build();
    executor.run(sample(2));

    assertThat(registry.get("open.dag.tasks.started").tags("dag", "etl").counters())
        .extracting(c -> c.count()).containsExactlyInAnyOrder(1.0, 1.0, 1.0, 1.0, 0.0);
    assertThat(registry.get("open.dag.tasks.retried").tags("node", "flaky", "backend", "java")
        .counter().count()).isEqualTo(2);
    assertThat(registry.get("open.dag.tasks.succeeded").tags("node", "save").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("open.dag.tasks.failed").tags("node", "bad").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("open.dag.tasks.skipped").tags("node", "skipped").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("open.dag.task.duration")
        .tags("node", "flaky", "outcome", "succeeded").timer().count()).isEqualTo(1);
    assertThat(registry.get("open.dag.tasks.running").tags("dag", "etl").gauge().value())
        .isZero();
  }

  @Test
  void micrometerCountsRunsByStatus() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DagExecutor executor = DagExecutor.builder()
        .withFailureMode(FailureMode.CONTINUE)
        .withListener(new DagMetrics(registry))
        .build();
    executor.run(sample(0)); // 'bad' fails: the run fails
    executor.run(sample(0));
    DagBuilder ok = Dag.builder("etl");
    ok.task("fine", () -> 1);
    executor.run(ok.build());

    assertThat(registry.get("open.dag.runs.started").tags("dag", "etl").counter().count())
        .isEqualTo(3);
    assertThat(registry.get("open.dag.runs.finished").tags("dag", "etl", "status", "SUCCEEDED")
        .counter().count()).isEqualTo(1);
    assertThat(registry.get("open.dag.runs.finished").tags("dag", "etl", "status", "FAILED")
        .counter().count()).isEqualTo(2);
    assertThat(registry.get("open.dag.run.duration").tags("dag", "etl", "status", "FAILED")
        .timer().count()).isEqualTo(2);
    assertThat(registry.get("open.dag.runs.active").tags("dag", "etl").gauge().value()).isZero();
  }

  /** A task failed because the executor refused it a thread had started too: both events. */
  @Test
  void aTaskRefusedAThreadIsAnnouncedBeforeItFails() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    DagBuilder b = Dag.builder("refused");
    b.task("a", () -> 1);
    RunReport report = DagExecutor.builder()
        .withExecutor(work -> {
          throw new java.util.concurrent.RejectedExecutionException("no threads today");
        })
        .withListener(new DagMetrics(registry))
        .withListener(new ExecutionListener() {
          @Override
          public void onTaskStarted(TaskEvent e) {
            events.add("started " + e.node());
          }

          @Override
          public void onTaskFailed(TaskEvent e) {
            events.add("failed " + e.node() + " started=" + e.started());
          }
        })
        .build().run(b.build());

    assertThat(report.node("a").status()).isEqualTo(NodeStatus.FAILED);
    assertThat(events).containsExactly("started a", "failed a started=true");
    assertThat(registry.get("open.dag.tasks.running").tags("dag", "refused").gauge().value())
        .isZero();
  }

  @Test
  void aMapNodeReportsHowManyElementsItHad() {
    DagBuilder b = Dag.builder("map");
    Node<List<Integer>> numbers = b.task("numbers", () -> List.of(1, 2, 3, 4, 5, 6, 7));
    Node<List<Integer>> doubled = b.map("doubled", numbers, x -> 2 * x);
    RunReport report = DagExecutor.builder().build().run(b.build());

    assertThat(doubled.isMap()).isTrue();
    assertThat(numbers.isMap()).isFalse();
    assertThat(report.node(doubled).elements()).isEqualTo(7);
    assertThat(report.node(numbers).elements()).isEqualTo(-1);
  }

  @Test
  void metricsCanLeaveTheNodeTagOut() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DagExecutor.builder().withFailureMode(FailureMode.CONTINUE)
        .withListener(new DagMetrics(registry, false)).build().run(sample(0));

    assertThat(registry.get("open.dag.tasks.started").counter().count()).isEqualTo(4);
    assertThat(registry.find("open.dag.tasks.started").tagKeys("node").counters()).isEmpty();
  }

  @Test
  void tasksLogWithDagNodeAndAttemptInTheMdc() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("test.task");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO);
    try {
      Logger log = LoggerFactory.getLogger("test.task");
      int[] calls = {0};
      DagBuilder b = Dag.builder("logged");
      b.node("work")
          .withRetry(RetryPolicy.builder().withMaxAttempts(2).withDelay(Duration.ZERO).build())
          .task(() -> {
            log.info("working");
            if (calls[0]++ == 0) {
              throw new IllegalStateException("once");
            }
            return 1;
          });
      b.build().run();

      assertThat(appender.list).extracting(ILoggingEvent::getMDCPropertyMap).containsExactly(
          Map.of("dag", "logged", "node", "work", "attempt", "1"),
          Map.of("dag", "logged", "node", "work", "attempt", "2"));
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void exportsDotAndMermaid() {
    DagBuilder b = Dag.builder("shop \"2\"");
    Node<Integer> a = b.task("load", () -> 1);
    b.task("total", a, x -> x);
    Dag dag = b.build();

    assertThat(DagExport.dot(dag)).isEqualTo("""
        digraph "shop \\"2\\"" {
          rankdir=LR;
          node [shape=box, style="rounded,filled", fillcolor=white];
          "load";
          "total";
          "load" -> "total";
        }
        """);
    assertThat(DagExport.mermaid(dag)).isEqualTo("""
        flowchart LR
          n0["load"]
          n1["total"]
          n0 --> n1
        """);
    RunReport report = dag.run();
    assertThat(DagExport.dot(dag, report)).contains("\"load\" [fillcolor=\"#c8e6c9\"];");
    assertThat(DagExport.mermaid(dag, report))
        .contains("classDef succeeded fill:#c8e6c9;").contains("n1[\"total\"]:::succeeded");
  }
}
