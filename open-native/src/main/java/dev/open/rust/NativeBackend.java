package dev.open.rust;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToLongFunction;

import dev.open.dag.FunctionRef;
import dev.open.dag.array.NDArray;
import dev.open.dag.spi.Backend;
import dev.open.dag.spi.Invocation;

/**
 * Rust kernels as a DAG {@link Backend} named {@code "native"}: a node calls a kernel by name with
 * its inputs as arguments.
 *
 * <pre>{@code
 * try (NativeBackend rust = NativeBackend.create()) {
 *   Node<NDArray> product = b.call("product", rust.function("matmul", NDArray.class), x, y);
 *   ...
 * }
 * }</pre>
 *
 * <p><b>Threading.</b> A native call pins the carrier thread of the virtual thread that makes it.
 * Calls whose estimated time is below the inline limit (default 50 µs) run on the node's own
 * thread; longer ones go to a small pool of platform threads (default: one per processor), so
 * that long kernels never take the virtual-thread scheduler's carriers. A cancelled or timed-out
 * call that has not started is dropped; one that runs cannot be interrupted and finishes, its
 * result discarded.
 *
 * <p><b>Limits and metrics.</b> Nodes calling this backend carry the tag {@code "native"}: {@code
 * withConcurrencyLimit("native", n)} bounds the calls in flight, and the {@code backend} tag of
 * {@link dev.open.dag.metrics.DagMetrics} is {@code native}.
 *
 * <p><b>Functions</b> (arguments in order; {@code x} is a {@code double[]} or float64 {@link
 * NDArray}):
 *
 * <table>
 *   <caption>native functions</caption>
 *   <tr><th>name</th><th>arguments</th><th>result</th></tr>
 *   <tr><td>{@code matmul}</td><td>NDArray a, NDArray b</td><td>NDArray</td></tr>
 *   <tr><td>{@code sum}</td><td>x</td><td>Double</td></tr>
 *   <tr><td>{@code dot}</td><td>x, y</td><td>Double</td></tr>
 *   <tr><td>{@code mean_variance}</td><td>x [, Integer ddof]</td><td>{@link MeanVariance}</td></tr>
 *   <tr><td>{@code min_max}</td><td>x</td><td>{@link MinMax}</td></tr>
 *   <tr><td>{@code quantiles}</td><td>x, double[] qs</td><td>double[]</td></tr>
 *   <tr><td>{@code zstd_compress}</td><td>byte[] data [, Integer level]</td><td>byte[]</td></tr>
 *   <tr><td>{@code zstd_decompress}</td><td>byte[] frames</td><td>byte[]</td></tr>
 *   <tr><td>{@code blake3}, {@code sha256}</td><td>byte[] data</td><td>byte[] (32)</td></tr>
 *   <tr><td>{@code token_counts}</td><td>String text</td><td>Map&lt;String, Long&gt;</td></tr>
 * </table>
 *
 * <p>Thread-safe. Close it to stop its pool.
 */
public final class NativeBackend implements Backend, AutoCloseable {
  /** The backend's name, also the resource tag of its calls. */
  public static final String NAME = "native";

  private final RustKernels kernels;
  private final ExecutorService pool;
  private final long inlineNanos;
  /** ABI version and the library file's hash. */
  private final String codeIdentity;

  /** With the pool for long calls given: {@link #create} makes one; tests pass their own. */
  NativeBackend(RustKernels kernels, ExecutorService pool, Duration inlineLimit) {
    this.kernels = kernels;
    this.pool = pool;
    this.inlineNanos = inlineLimit.toNanos();
    // Hashed now, as near as we can to when the library was loaded: a file rebuilt later is not
    // the code this JVM runs.
    this.codeIdentity = "abi" + kernels.abiVersion() + "-" + fileHash(kernels.libraryFile());
  }

  /**
   * Returns a backend over {@link RustKernels#load()}, with one pool thread per processor and a
   * 50 µs inline limit.
   *
   * @return the backend
   */
  public static NativeBackend create() {
    return create(RustKernels.load(), Runtime.getRuntime().availableProcessors(),
        Duration.ofNanos(50_000));
  }

  /**
   * Returns a backend.
   *
   * @param kernels the kernels to call
   * @param threads the size of the pool for long calls, at least 1
   * @param inlineLimit calls estimated to take at most this long run on the calling thread
   * @return the backend
   */
  public static NativeBackend create(RustKernels kernels, int threads, Duration inlineLimit) {
    Objects.requireNonNull(kernels, "kernels");
    Objects.requireNonNull(inlineLimit, "inlineLimit");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, was " + threads);
    }
    if (inlineLimit.isNegative()) {
      throw new IllegalArgumentException("inlineLimit must not be negative, was " + inlineLimit);
    }
    return new NativeBackend(kernels, Executors.newFixedThreadPool(threads, new DaemonThreads()),
        inlineLimit);
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Returns the library's ABI version and the SHA-256 of the library file (its first 16 hex
   * digits), the same for every kernel: a rebuilt library changes the keys of every native node
   * in a result store.
   */
  @Override
  public String codeIdentity(String function) {
    return codeIdentity;
  }

  private static String fileHash(java.nio.file.Path file) {
    try (var in = java.nio.file.Files.newInputStream(file)) {
      var sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
      return java.util.HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
      return "unreadable"; // keys then change with the ABI version and the declared versions only
    }
  }

  /**
   * Returns a reference to a kernel for {@link dev.open.dag.DagBuilder#call}.
   *
   * @param function a function name from the table in the class description
   * @param resultType the type of its result
   * @param <R> the result type
   * @return the reference
   * @throws IllegalArgumentException for an unknown function
   */
  public <R> FunctionRef<R> function(String function, Class<R> resultType) {
    kernel(function);
    return FunctionRef.of(this, function, resultType);
  }

  @Override
  public CompletableFuture<?> invoke(Invocation call) {
    Kernel kernel = kernel(call.function());
    List<Object> args = call.arguments();
    kernel.check(args);
    if (kernel.estimateNanos.applyAsLong(args) <= inlineNanos) {
      try {
        return CompletableFuture.completedFuture(kernel.body.apply(args));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    CompletableFuture<Object> result = new CompletableFuture<>();
    FutureTask<Void> task = new FutureTask<>(() -> {
      try {
        result.complete(kernel.body.apply(args));
      } catch (RuntimeException | Error e) {
        result.completeExceptionally(e);
      }
    }, null);
    result.whenComplete((v, e) -> {
      if (result.isCancelled()) {
        task.cancel(false); // not started yet: never runs; running: finishes, result dropped
      }
    });
    pool.execute(task);
    return result;
  }

  @Override
  public void close() {
    pool.shutdown();
  }

  @Override
  public String toString() {
    return "NativeBackend[" + kernels + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private Kernel kernel(String function) {
    Objects.requireNonNull(function, "function");
    Kernel kernel = switch (function) {
      case "matmul" -> new Kernel("matmul", 2, 2, "NDArray a, NDArray b",
          args -> 2L * rows(args.get(0)) * cols(args.get(0)) * cols(args.get(1)) / 100,
          args -> kernels.matmul(nd(args, 0, "a"), nd(args, 1, "b")));
      case "sum" -> new Kernel("sum", 1, 1, "x", args -> bytes(args.get(0)) / 8,
          args -> x(args, 0) instanceof NDArray a ? kernels.sum(a) : kernels.sum((double[]) x(args, 0)));
      case "dot" -> new Kernel("dot", 2, 2, "x, y", args -> bytes(args.get(0)) / 4,
          args -> x(args, 0) instanceof NDArray a
              ? kernels.dot(a, nd(args, 1, "y"))
              : kernels.dot((double[]) x(args, 0), doubles(args, 1, "y")));
      case "mean_variance" -> new Kernel("mean_variance", 1, 2, "x [, Integer ddof]",
          args -> bytes(args.get(0)) / 4, args -> {
            int ddof = args.size() > 1 ? integer(args, 1, "ddof") : 0;
            return x(args, 0) instanceof NDArray a ? kernels.meanVariance(a, ddof)
                : kernels.meanVariance((double[]) x(args, 0), ddof);
          });
      case "min_max" -> new Kernel("min_max", 1, 1, "x", args -> bytes(args.get(0)) / 8,
          args -> x(args, 0) instanceof NDArray a ? kernels.minMax(a)
              : kernels.minMax((double[]) x(args, 0)));
      case "quantiles" -> new Kernel("quantiles", 2, 2, "x, double[] qs",
          args -> bytes(args.get(0)) * 4, args -> x(args, 0) instanceof NDArray a
              ? kernels.quantiles(a, doubles(args, 1, "qs"))
              : kernels.quantiles((double[]) x(args, 0), doubles(args, 1, "qs")));
      case "zstd_compress" -> new Kernel("zstd_compress", 1, 2, "byte[] data [, Integer level]",
          args -> bytes(args.get(0)) * 2,
          args -> kernels.zstdCompress(bytes(args, 0, "data"),
              args.size() > 1 ? integer(args, 1, "level") : 3));
      case "zstd_decompress" -> new Kernel("zstd_decompress", 1, 1, "byte[] frames",
          args -> bytes(args.get(0)) * 4, args -> kernels.zstdDecompress(bytes(args, 0, "frames")));
      case "blake3" -> new Kernel("blake3", 1, 1, "byte[] data", args -> bytes(args.get(0)) / 2,
          args -> kernels.blake3(bytes(args, 0, "data")));
      case "sha256" -> new Kernel("sha256", 1, 1, "byte[] data", args -> bytes(args.get(0)) / 2,
          args -> kernels.sha256(bytes(args, 0, "data")));
      case "token_counts" -> new Kernel("token_counts", 1, 1, "String text",
          args -> 20L * (args.get(0) instanceof String s ? s.length() : 0),
          args -> kernels.tokenCounts(string(args, 0, "text")));
      default -> null;
    };
    if (kernel == null) {
      throw new IllegalArgumentException("no native function '" + function + "'; known: matmul, "
          + "sum, dot, mean_variance, min_max, quantiles, zstd_compress, zstd_decompress, blake3, "
          + "sha256, token_counts");
    }
    return kernel;
  }

  /** One function: how many arguments, how long it will take, what it does. */
  private record Kernel(String name, int minArgs, int maxArgs, String signature,
      ToLongFunction<List<Object>> estimateNanos, Function<List<Object>, Object> body) {

    void check(List<Object> args) {
      if (args.size() < minArgs || args.size() > maxArgs) {
        throw new IllegalArgumentException("native function '" + name + "' takes (" + signature
            + "), got " + args.size() + " argument" + (args.size() == 1 ? "" : "s"));
      }
    }
  }

  private static Object x(List<Object> args, int i) {
    Object value = args.get(i);
    if (value instanceof double[] || value instanceof NDArray) {
      return value;
    }
    throw wrongType(args, i, "x", "double[] or NDArray");
  }

  private static NDArray nd(List<Object> args, int i, String name) {
    if (args.get(i) instanceof NDArray a) {
      return a;
    }
    throw wrongType(args, i, name, "NDArray");
  }

  private static double[] doubles(List<Object> args, int i, String name) {
    if (args.get(i) instanceof double[] d) {
      return d;
    }
    throw wrongType(args, i, name, "double[]");
  }

  private static byte[] bytes(List<Object> args, int i, String name) {
    if (args.get(i) instanceof byte[] b) {
      return b;
    }
    throw wrongType(args, i, name, "byte[]");
  }

  private static int integer(List<Object> args, int i, String name) {
    if (args.get(i) instanceof Integer v) {
      return v;
    }
    throw wrongType(args, i, name, "Integer");
  }

  private static String string(List<Object> args, int i, String name) {
    if (args.get(i) instanceof String s) {
      return s;
    }
    throw wrongType(args, i, name, "String");
  }

  private static IllegalArgumentException wrongType(List<Object> args, int i, String name,
      String expected) {
    Object value = args.get(i);
    return new IllegalArgumentException("argument " + (i + 1) + " (" + name + ") must be "
        + expected + ", got " + (value == null ? "null" : value.getClass().getSimpleName()));
  }

  private static long bytes(Object value) {
    if (value instanceof byte[] b) {
      return b.length;
    }
    if (value instanceof double[] d) {
      return 8L * d.length;
    }
    if (value instanceof NDArray a) {
      return a.byteSize();
    }
    return 0;
  }

  private static long rows(Object value) {
    return value instanceof NDArray a && a.ndim() == 2 ? a.dim(0) : 0;
  }

  private static long cols(Object value) {
    return value instanceof NDArray a && a.ndim() == 2 ? a.dim(1) : 0;
  }

  /** Names the pool's threads, so that thread dumps show what runs native code. */
  private static final class DaemonThreads implements ThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, String.format(Locale.ROOT, "open-native-%d", count.incrementAndGet()));
      t.setDaemon(true);
      return t;
    }
  }
}
