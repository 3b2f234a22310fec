package dev.open.examples;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.array.NDArray;
import dev.open.dag.metrics.DagMetrics;
import dev.open.dag.policy.FailureMode;
import dev.open.dag.policy.RetryPolicy;
import dev.open.ports.WorkerPool;
import dev.open.ports.WorkerPoolMetrics;
import dev.open.rust.NativeBackend;

/**
 * Monitoring for operations (docs/operations/monitoring.md): runs a DAG of Java, Python and Rust
 * tasks again and again, with {@link DagMetrics} and {@link WorkerPoolMetrics} in a Prometheus
 * registry served at {@code http://127.0.0.1:PORT/metrics}.
 *
 * <pre>
 * java -cp examples/target/open-examples.jar dev.open.examples.MonitoringExample \
 *     [PORT [RUNS|forever]]
 * </pre>
 *
 * <p>PORT defaults to 8080 (0 picks a free one); RUNS defaults to {@code forever}. The chosen
 * address is printed as the first line, {@code metrics: http://127.0.0.1:PORT/metrics}. Some
 * tasks fail on purpose so that every panel of {@code docs/operations/grafana/open-dashboard.json}
 * has data: {@code fetch-source} fails its first attempt in every third run (the retry
 * succeeds), the Python call {@code describe-labels} is handed words instead of numbers in every
 * tenth run and {@code validate} throws in every 25th (both fail for good, and so does their
 * run). The Python workers are recycled after 500 calls each, which the
 * restart panel shows. Run from the repository root ({@code -Dopen.repo} names it otherwise;
 * {@code -Dopen.python} names the interpreter, which needs NumPy).
 */
public final class MonitoringExample {
  /** The value of {@code runs} that never stops (until {@link Handle#close()}). */
  public static final long FOREVER = Long.MAX_VALUE;
  /** The DAG's name: the {@code dag} label of its series. */
  public static final String DAG_NAME = "monitoring-demo";

  static final int CALLS_PER_WORKER = 500;
  private static final Duration PAUSE = Duration.ofMillis(250);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private MonitoringExample() {}

  /**
   * Runs the example until it has done its runs, or forever.
   *
   * @param args {@code [PORT [RUNS|forever]]}
   * @throws Exception if the pool, the native library or the server cannot start
   */
  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
    long runs = args.length > 1 && !args[1].equals("forever") ? Long.parseLong(args[1]) : FOREVER;
    if (port < 0 || port > 65_535 || runs < 1) {
      System.err.println("usage: MonitoringExample [PORT (0 = any free one) [RUNS|forever]]");
      System.exit(2);
    }
    Handle handle = start(port, runs);
    System.out.println("metrics: " + handle.metricsUri());
    System.out.flush();
    // SIGTERM (or Ctrl-C) closes the pool and the server; close() is idempotent
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(handle::close));
    handle.awaitRuns(Duration.ofDays(365_000));
    System.out.println(handle.runsFinished() + " runs, " + handle.runsFailed() + " failed");
    handle.close();
  }

  /**
   * Starts the Python pool, the native backend, the metrics endpoint and a thread that runs the
   * DAG {@code runs} times, 250 ms apart.
   *
   * @param port the port on 127.0.0.1 to serve {@code /metrics} on; 0 picks a free one
   * @param runs how many runs, at least 1; {@link #FOREVER} runs until {@link Handle#close()}
   * @return the running example; close it
   * @throws IOException if the server cannot bind the port
   */
  public static Handle start(int port, long runs) throws IOException {
    if (runs < 1) {
      throw new IllegalArgumentException("runs must be >= 1, was " + runs);
    }
    Path repo = Path.of(System.getProperty("open.repo", ".")).toAbsolutePath();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    NativeBackend nativeBackend = NativeBackend.create();
    WorkerPool python = null;
    HttpServer server = null;
    try {
      python = WorkerPool.python()
          .withInterpreter(Flagship.pythonInterpreter(repo))
          .withModulePath(repo.resolve("python-worker/examples"))
          .withAllowedModules("open_examples.*")
          .withWorkers(2)
          .withCallTimeout(Duration.ofSeconds(30))
          .withMaxCallsPerWorker(CALLS_PER_WORKER)
          .build();
      new WorkerPoolMetrics(python).bindTo(registry);
      server = HttpServer.create(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
      server.createContext("/metrics", exchange -> serve(exchange, registry));
      server.start();
    } catch (IOException | RuntimeException e) {
      if (python != null) {
        python.close();
      }
      nativeBackend.close();
      throw e;
    }
    DagExecutor executor = DagExecutor.builder()
        .withFailureMode(FailureMode.CONTINUE)
        .withConcurrencyLimit("python", 2)
        .withDeadline(Duration.ofMinutes(1))
        .withListener(new DagMetrics(registry))
        .build();
    return new Handle(registry, server, python, nativeBackend, executor, runs);
  }

  /** Answers a scrape: the registry in Prometheus' text format. */
  private static void serve(HttpExchange exchange, PrometheusMeterRegistry registry)
      throws IOException {
    try {
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", PROMETHEUS_TEXT);
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } finally {
      exchange.close();
    }
  }

  /**
   * The DAG of run {@code run}: Java tasks, a map node of 48 elements, three Python calls and two
   * Rust kernels. Which tasks fail depends on the run's number only.
   */
  static Dag dag(long run, WorkerPool python, NativeBackend nativeBackend) {
    DagBuilder b = Dag.builder(DAG_NAME);
    AtomicInteger fetchAttempts = new AtomicInteger();
    RetryPolicy twice = RetryPolicy.builder().withMaxAttempts(2)
        .withDelay(Duration.ofMillis(20)).build();

    Node<String> source = b.node("fetch-source")
        .withRetry(RetryPolicy.builder().withMaxAttempts(3).withDelay(Duration.ofMillis(20))
            .build())
        .task(() -> {
          Thread.sleep(5);
          if (run % 3 == 0 && fetchAttempts.incrementAndGet() == 1) {
            throw new IOException("source busy in run " + run + " (this example's doing)");
          }
          return "batch-" + run;
        });
    Node<NDArray> samples = b.task("samples", source, batch -> samples(run, 48, 8));
    Node<NDArray> normalized = b.call("normalize",
        python.function("open_examples.numeric:normalize", NDArray.class), samples);
    @SuppressWarnings("rawtypes")
    Node<Map> stats = b.call("stats", python.function("open_examples.numeric:stats", Map.class),
        normalized);
    Node<List<Object>> labels = b.task("labels", () -> run % 10 == 0
        ? List.<Object>of("low", "high") // NumPy cannot make numbers of these: ValueError
        : List.<Object>of(0.25, 0.5, 0.75));
    @SuppressWarnings("rawtypes")
    Node<Map> described = b.node("describe-labels").withRetry(twice)
        .call(python.function("open_examples.numeric:stats", Map.class), labels);
    Node<NDArray> transposed = b.task("transpose", normalized, Flagship::transpose);
    Node<NDArray> gram = b.call("gram", nativeBackend.function("matmul", NDArray.class),
        normalized, transposed);
    Node<Double> total = b.call("checksum", nativeBackend.function("sum", Double.class), gram);
    Node<List<double[]>> rows = b.task("rows", normalized, MonitoringExample::rows);
    Node<List<Double>> scores = b.map("score", rows, row -> {
      Thread.sleep(1 + (long) (Math.abs(row[0]) * 10) % 20); // work of uneven length
      double sum = 0;
      for (double x : row) {
        sum += x * x;
      }
      return Math.sqrt(sum);
    });
    Node<Integer> checked = b.node("validate").withRetry(twice).task(scores, s -> {
      if (run % 25 == 0) {
        throw new IllegalStateException("run " + run + ": invented validation failure");
      }
      return s.size();
    });
    b.fanIn("report", List.of(stats, described, total, checked),
        parts -> "run " + run + ": " + parts.size() + " parts");
    return b.build();
  }

  /** Rows of seeded Gaussian numbers, a column each with its own scale. */
  static NDArray samples(long seed, int rows, int cols) {
    Random random = new Random(seed);
    double[] v = new double[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = random.nextGaussian() * (1 + i % cols);
    }
    return NDArray.of(v, rows, cols);
  }

  static List<double[]> rows(NDArray a) {
    int cols = a.dim(1);
    double[] all = a.toDoubleArray();
    List<double[]> rows = new ArrayList<>(a.dim(0));
    for (int i = 0; i < a.dim(0); i++) {
      double[] row = new double[cols];
      System.arraycopy(all, i * cols, row, 0, cols);
      rows.add(row);
    }
    return rows;
  }

  /**
   * The running example: the metrics endpoint, the pool, the native backend and the thread that
   * runs the DAG. Thread-safe.
   */
  public static final class Handle implements AutoCloseable {
    private final PrometheusMeterRegistry registry;
    private final HttpServer server;
    private final WorkerPool python;
    private final NativeBackend nativeBackend;
    private final Thread runner;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicLong finished = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean closing;
    private boolean closed;

    private Handle(PrometheusMeterRegistry registry, HttpServer server, WorkerPool python,
        NativeBackend nativeBackend, DagExecutor executor, long runs) {
      this.registry = registry;
      this.server = server;
      this.python = python;
      this.nativeBackend = nativeBackend;
      this.runner = Thread.ofPlatform().name("monitoring-example-runs").daemon().start(() -> {
        try {
          for (long run = 1; run <= runs && !closing; run++) {
            RunReport report = executor.run(dag(run, python, nativeBackend));
            finished.incrementAndGet();
            if (report.status() != RunStatus.SUCCEEDED) {
              failed.incrementAndGet();
            }
            if (run % 100 == 0) {
              System.out.printf(Locale.ROOT, "%d runs, %d failed%n", finished.get(),
                  failed.get());
            }
            if (run < runs) {
              Thread.sleep(PAUSE.toMillis());
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt(); // close() stops us
        } finally {
          done.countDown();
        }
      });
    }

    /** Returns the port {@code /metrics} is served on (the one chosen when 0 was asked for). */
    public int port() {
      return server.getAddress().getPort();
    }

    /** Returns {@code http://127.0.0.1:PORT/metrics}. */
    public URI metricsUri() {
      return URI.create("http://" + server.getAddress().getAddress().getHostAddress() + ":"
          + port() + "/metrics");
    }

    /** Returns the registry the endpoint serves. */
    public PrometheusMeterRegistry registry() {
      return registry;
    }

    /** Returns how many runs have finished, whatever their status. */
    public long runsFinished() {
      return finished.get();
    }

    /** Returns how many finished runs did not succeed. */
    public long runsFailed() {
      return failed.get();
    }

    /**
     * Waits until every run asked for has finished (or the example was closed).
     *
     * @param timeout the longest to wait
     * @return whether the runs are over
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitRuns(Duration timeout) throws InterruptedException {
      return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops the runs (cancelling the one in flight), the pool, the backend and the server. */
    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      closing = true;
      runner.interrupt();
      try {
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      server.stop(0); // no scrape reads the pool while it closes
      python.close();
      nativeBackend.close();
      registry.close();
    }
  }
}
