package dev.open.report;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.InfoCmp.Capability;

import dev.open.dag.RunReport;
import dev.open.dag.event.ExecutionListener;
import dev.open.dag.event.RunStartedEvent;
import dev.open.dag.event.TaskEvent;

/**
 * Shows the progress of runs on the console: nodes done of the total, running, failed, skipped,
 * cached, the rate of the last seconds and the time left at that rate.
 *
 * <pre>{@code
 * try (ConsoleProgress progress = ConsoleProgress.create()) {
 *   RunReport report = DagExecutor.builder().withListener(progress).build().run(dag);
 * }
 * }</pre>
 *
 * <p>On a terminal ({@link #create()} asks JLine whether standard error is one) it redraws one
 * line five times a second, using the terminal's own capabilities to return and clear; elsewhere
 * (a CI log, a file) it prints a plain line every ten seconds. Each run ends with a line of its
 * own. Off unless registered: the library prints nothing by itself.
 *
 * <p>One instance may follow several runs, one after another or at once: the line sums the runs
 * going on, and each run's own line at its end has its own counts. Listener methods only count;
 * the drawing happens on one daemon thread, started by the first run, idle while no run goes on,
 * and stopped by {@link #close()}.
 */
public final class ConsoleProgress implements ExecutionListener, AutoCloseable {
  private final Terminal terminal;
  private final PrintWriter out;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  /** The rate is measured over this much of the recent past. */
  private final long windowNanos;

  /** The runs going on, by run id: each counts its own nodes. */
  private final Map<Long, Counts> runs = new ConcurrentHashMap<>();
  /** Nodes finished in any run since this progress began: the rate's measure. */
  private final AtomicLong finishedEver = new AtomicLong();

  private final Object lock = new Object();
  /** Finished counts sampled at each draw, for the rate: a ring of (time, count). */
  private final long[] sampleTimes = new long[64];
  private final long[] sampleCounts = new long[64];
  private int samples;
  /** When the runs going on began: the first of them, since no run was going on. */
  private long startedNanos;
  /** {@link #finishedEver} then. */
  private long startedCount;
  private Thread drawer;
  private boolean closed;
  /** Whether the last thing written is a redrawn line without its newline. */
  private boolean lineOpen;

  /** One run's counts. */
  private static final class Counts {
    final int total;
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger succeeded = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger skipped = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();
    final AtomicInteger cached = new AtomicInteger();

    Counts(int total) {
      this.total = total;
    }
  }

  ConsoleProgress(Terminal terminal, PrintWriter out, Duration interval, LongSupplier nanoTime) {
    this.terminal = terminal;
    this.out = Objects.requireNonNull(out, "out");
    this.intervalNanos = interval.toNanos();
    this.nanoTime = nanoTime;
    this.windowNanos = Math.max(Duration.ofSeconds(10).toNanos(), 3 * intervalNanos);
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("the interval must be positive, got " + interval);
    }
  }

  /**
   * Creates progress on standard error: a line redrawn five times a second when it is a terminal,
   * a plain line every ten seconds otherwise.
   *
   * @return the progress, to register as a listener and close after the runs
   */
  public static ConsoleProgress create() {
    Terminal terminal;
    try {
      terminal = TerminalBuilder.builder()
          .system(true)
          .systemOutput(TerminalBuilder.SystemOutput.SysErr)
          .dumb(true)
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException("could not open the terminal", e);
    }
    if (terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
      try {
        terminal.close();
      } catch (IOException ignored) {
        // a dumb terminal holds nothing
      }
      return plain(System.err, Duration.ofSeconds(10));
    }
    return new ConsoleProgress(terminal, terminal.writer(), Duration.ofMillis(200),
        System::nanoTime);
  }

  /**
   * Creates progress that prints a plain line to {@code out} every {@code interval}, and one at
   * the end of each run: for logs, and for consoles JLine does not recognise.
   *
   * @param out where the lines go
   * @param interval how often a line is printed while runs go on
   * @return the progress
   */
  public static ConsoleProgress plain(PrintStream out, Duration interval) {
    return new ConsoleProgress(null, new PrintWriter(out, true), interval, System::nanoTime);
  }

  @Override
  public void onRunStarted(RunStartedEvent event) {
    synchronized (lock) {
      if (runs.isEmpty()) { // a new stretch of work: its own clock and rate
        startedNanos = nanoTime.getAsLong();
        startedCount = finishedEver.get();
        samples = 0;
      }
      runs.put(event.runId(), new Counts(event.nodes()));
      if (drawer == null && !closed) {
        drawer = Thread.ofPlatform().daemon().name("open-progress").start(this::drawLoop);
      }
    }
  }

  @Override
  public void onTaskStarted(TaskEvent event) {
    Counts c = runs.get(event.runId());
    if (c != null) {
      c.running.incrementAndGet();
    }
  }

  @Override
  public void onTaskSucceeded(TaskEvent event) {
    finished(event, c -> c.succeeded);
  }

  @Override
  public void onTaskFailed(TaskEvent event) {
    finished(event, c -> c.failed);
  }

  @Override
  public void onTaskSkipped(TaskEvent event) {
    finished(event, c -> c.skipped);
  }

  @Override
  public void onTaskCached(TaskEvent event) {
    finished(event, c -> c.cached); // a map node found whole in the store had started
  }

  @Override
  public void onTaskCancelled(TaskEvent event) {
    finished(event, c -> c.cancelled);
  }

  private void finished(TaskEvent event, Function<Counts, AtomicInteger> outcome) {
    Counts c = runs.get(event.runId());
    if (c != null) {
      if (event.started()) {
        c.running.decrementAndGet();
      }
      outcome.apply(c).incrementAndGet();
      finishedEver.incrementAndGet();
    }
  }

  @Override
  public void onRunFinished(RunReport report) {
    synchronized (lock) {
      Counts c = runs.remove(report.runId());
      if (c != null) {
        emit(Totals.of(List.of(c)) + "  " + report.dag().name() + " run " + report.runId() + " "
            + report.status().name().toLowerCase(Locale.ROOT) + " in "
            + clock(report.duration().toNanos()), true);
      }
    }
  }

  /** Stops drawing. The last line stays on the console. */
  @Override
  public void close() {
    Thread thread;
    synchronized (lock) {
      closed = true;
      thread = drawer;
      if (lineOpen) {
        out.println();
        out.flush();
        lineOpen = false;
      }
    }
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (terminal != null) {
      try {
        terminal.close();
      } catch (IOException ignored) {
        // nothing left to show
      }
    }
  }

  private void drawLoop() {
    while (true) {
      try {
        Thread.sleep(Duration.ofNanos(intervalNanos));
      } catch (InterruptedException e) {
        return;
      }
      synchronized (lock) {
        if (closed) {
          return;
        }
        if (!runs.isEmpty()) { // between runs, nothing changes: nothing to draw
          emit(line(), false);
        }
      }
    }
  }

  /** Writes a line: redrawn in place on a terminal (unless final), a line of its own otherwise. */
  private void emit(String line, boolean last) {
    if (terminal == null) {
      out.println(line);
    } else {
      terminal.puts(Capability.carriage_return);
      int width = terminal.getWidth();
      out.print(width > 1 && line.length() >= width ? line.substring(0, width - 1) : line);
      terminal.puts(Capability.clr_eol);
      if (last) {
        out.println();
      }
      lineOpen = !last;
    }
    out.flush();
  }

  /** The current line, for the runs going on. Call under {@code lock}: it samples the rate. */
  String line() {
    long now = nanoTime.getAsLong();
    Totals t = Totals.of(runs.values());
    double rate = rate(now, finishedEver.get());
    StringBuilder b = new StringBuilder(t.toString());
    if (rate > 0) {
      b.append(String.format(Locale.ROOT, " | %s nodes/s", rate >= 100
          ? String.format(Locale.ROOT, "%,.0f", rate) : String.format(Locale.ROOT, "%.1f", rate)));
      if (t.done < t.all) {
        b.append(" | ETA ").append(clock((long) ((t.all - t.done) / rate * 1e9)));
      }
    }
    b.append(" | ").append(clock(now - startedNanos));
    return b.toString();
  }

  /** The counts of some runs, summed; as text: done of total, running, failed, skipped… */
  private record Totals(int all, int done, int running, int failed, int skipped, int cancelled,
      int cached) {

    static Totals of(Iterable<Counts> runs) {
      int all = 0;
      int done = 0;
      int running = 0;
      int failed = 0;
      int skipped = 0;
      int cancelled = 0;
      int cached = 0;
      for (Counts c : runs) {
        int f = c.failed.get();
        int s = c.skipped.get();
        int x = c.cancelled.get();
        int h = c.cached.get();
        all += c.total;
        done += c.succeeded.get() + f + s + x + h;
        running += c.running.get();
        failed += f;
        skipped += s;
        cancelled += x;
        cached += h;
      }
      return new Totals(all, done, running, failed, skipped, cancelled, cached);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(120);
      b.append(String.format(Locale.ROOT, "%,d/%,d done", done, all));
      if (all > 0) {
        b.append(String.format(Locale.ROOT, " (%d%%)", (int) (100L * done / all)));
      }
      b.append(String.format(Locale.ROOT, " | %,d running | %,d failed", Math.max(0, running),
          failed));
      if (skipped > 0) {
        b.append(String.format(Locale.ROOT, " | %,d skipped", skipped));
      }
      if (cancelled > 0) {
        b.append(String.format(Locale.ROOT, " | %,d cancelled", cancelled));
      }
      return b.append(String.format(Locale.ROOT, " | %,d cached", cached)).toString();
    }
  }

  /** Nodes finished per second over the window (since the start, before a sample is old enough). */
  private double rate(long now, long done) {
    int slot = samples % sampleTimes.length;
    sampleTimes[slot] = now;
    sampleCounts[slot] = done;
    samples++;
    // The oldest sample still inside the window, or the start when none is.
    long fromTime = startedNanos;
    long fromCount = startedCount;
    int kept = Math.min(samples, sampleTimes.length);
    for (int k = kept - 1; k >= 1; k--) {
      int i = Math.floorMod(samples - 1 - k, sampleTimes.length);
      if (now - sampleTimes[i] <= windowNanos) {
        fromTime = sampleTimes[i];
        fromCount = sampleCounts[i];
        break;
      }
    }
    long span = now - fromTime;
    return span <= 0 ? 0 : (done - fromCount) * 1e9 / span;
  }

  /** Formats nanoseconds as {@code m:ss}, or {@code h:mm:ss} past an hour. */
  static String clock(long nanos) {
    long s = Math.max(0, nanos) / 1_000_000_000L;
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
