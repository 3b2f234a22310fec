package dev.open.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;

class ConsoleProgressTest {

  @Test
  void aFinishedRunEndsWithALineOfItsCounts() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ConsoleProgress progress =
        ConsoleProgress.plain(new PrintStream(bytes, true, StandardCharsets.UTF_8),
            Duration.ofHours(1))) {
      Runs.mixed(progress);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);

    // 6 nodes: numbers, square, flaky, total succeed; broken fails; after-broken is skipped
    assertThat(out.lines()).hasSize(1);
    assertThat(out).startsWith("6/6 done (100%) | 0 running | 1 failed | 1 skipped | 0 cached")
        .contains("mixed <demo> run ").contains(" failed in 0:0");
  }

  /** The counts, rate and time left, on a clock the test moves. */
  @Test
  void rateAndTimeLeftComeFromTheRecentPast() {
    AtomicLong now = new AtomicLong(0);
    StringWriter text = new StringWriter();
    ConsoleProgress progress = new ConsoleProgress(null, new PrintWriter(text),
        Duration.ofHours(1), now::get); // the drawing thread never samples: the test does
    progress.onRunStarted(new RunStartedEvent("d", 1, 1000, Instant.EPOCH));
    for (int i = 0; i < 100; i++) {
      progress.onTaskStarted(task());
      progress.onTaskSucceeded(task());
    }
    progress.onTaskStarted(task());
    now.set(Duration.ofSeconds(10).toNanos());
    String line = progress.line();
    // 100 nodes in 10 s: 10 nodes/s, 900 left: 90 s
    assertThat(line).isEqualTo("100/1,000 done (10%) | 1 running | 0 failed | 0 cached"
        + " | 10.0 nodes/s | ETA 1:30 | 0:10");

    for (int i = 0; i < 400; i++) {
      progress.onTaskStarted(task());
      progress.onTaskSucceeded(task());
    }
    now.set(Duration.ofSeconds(15).toNanos());
    // the last 5 s (since the sample at 10 s) ran 400: 80 nodes/s, 500 left: 6 s
    assertThat(progress.line()).contains("500/1,000 done (50%)").contains("80.0 nodes/s")
        .contains("ETA 0:06").endsWith("0:15");
    progress.close();
  }

  @Test
  void runsOneAfterAnotherAreCountedEachOnItsOwn() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ConsoleProgress progress =
        ConsoleProgress.plain(new PrintStream(bytes, true, StandardCharsets.UTF_8),
            Duration.ofHours(1))) {
      Runs.mixed(progress);
      Runs.layered(2, 3, 0, progress);
    }
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("6/6 done (100%) | 0 running | 1 failed | 1 skipped");
    assertThat(lines.get(1)).startsWith("6/6 done (100%) | 0 running | 0 failed | 0 cached")
        .contains("layered-2x3 run ").contains(" succeeded in ");
  }

  @Test
  void clockFormatsMinutesAndHours() {
    assertThat(ConsoleProgress.clock(0)).isEqualTo("0:00");
    assertThat(ConsoleProgress.clock(Duration.ofSeconds(59).toNanos())).isEqualTo("0:59");
    assertThat(ConsoleProgress.clock(Duration.ofSeconds(3599).toNanos())).isEqualTo("59:59");
    assertThat(ConsoleProgress.clock(Duration.ofSeconds(3661).toNanos())).isEqualTo("1:01:01");
  }

  @Test
  void theIntervalMustBePositive() {
    assertThatThrownBy(() -> ConsoleProgress.plain(System.err, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
  }

  @Test
  void withoutATerminalLinesArePrintedAtTheInterval() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    java.util.concurrent.CountDownLatch twoLines = new java.util.concurrent.CountDownLatch(2);
    java.io.OutputStream counting = new java.io.OutputStream() {
      @Override
      public synchronized void write(int b) {
        bytes.write(b);
        if (b == '\n') {
          twoLines.countDown();
        }
      }
    };
    PrintStream out = new PrintStream(counting, true, StandardCharsets.UTF_8);
    try (ConsoleProgress progress = ConsoleProgress.plain(out, Duration.ofMillis(20))) {
      progress.onRunStarted(new RunStartedEvent("d", 1, 3, Instant.EPOCH));
      progress.onTaskStarted(task());
      assertThat(twoLines.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().limit(2))
        .allMatch(l -> l.startsWith("0/3 done (0%) | 1 running"));
  }

  private static TaskEvent task() {
    return new TaskEvent("d", 1, "n", "java", 1, true, Duration.ZERO, null);
  }
}
