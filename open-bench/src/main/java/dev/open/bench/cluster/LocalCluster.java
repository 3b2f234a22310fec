package dev.open.bench.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.open.cluster.ClusterExecutor;

/**
 * A cluster of members on 127.0.0.1: this JVM, the first member (so the oldest, Hazelcast's
 * master) and the coordinator of every run, and member processes ({@link BenchMember}) started
 * with default JVM options, their stderr appended to one log file. All join by TCP-IP with
 * explicit addresses, multicast and phone-home off, join waits at 0 (members join in about a
 * second instead of five), Hazelcast logging at WARN, under a cluster name of their own. The
 * member processes die with this JVM: {@link #close()} and a shutdown hook kill them, and they
 * exit by themselves when their stdin (a pipe from this JVM) closes.
 */
final class LocalCluster implements AutoCloseable {
  /** How long a member process may take to start and join. */
  private static final Duration STARTUP = Duration.ofSeconds(90);

  private final String name;
  private final int port;
  private final int slots;
  private final Map<String, String> properties;
  private final Params params;
  private final Path stderr;
  private final HazelcastInstance hz;
  private final ClusterExecutor executor;
  private final List<Process> processes = new CopyOnWriteArrayList<>();
  private final Thread hook = new Thread(this::killProcesses, "open-bench-cluster-hook");

  private LocalCluster(String name, int slots, Map<String, String> properties, Params params,
      Path stderr) {
    this.name = name;
    this.port = freePort();
    this.slots = slots;
    this.properties = Map.copyOf(properties);
    this.params = params;
    this.stderr = stderr;
    this.hz = Hazelcast.newHazelcastInstance(config(name, port, List.of(port), properties));
    this.executor = BenchDags.register(ClusterExecutor.builder(hz), params)
        .withMaxConcurrentNodes(slots).build();
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts a cluster of {@code size} members, {@code slots} nodes at once each, with the
   * Hazelcast {@code properties} on every member, and waits until all serve the DAGs. The member
   * processes append their stderr to {@code stderr}.
   */
  static LocalCluster start(String name, int size, int slots, Map<String, String> properties,
      Params params, Path stderr) throws IOException, InterruptedException {
    LocalCluster cluster = new LocalCluster(name, slots, properties, params, stderr);
    try {
      for (int i = 1; i < size; i++) {
        cluster.add();
      }
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** The member configuration every member of the benchmarks uses. */
  static Config config(String cluster, int port, List<Integer> join,
      Map<String, String> properties) {
    Config config = new Config().setClusterName(cluster);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    properties.forEach(config::setProperty);
    NetworkConfig network = config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig joining = network.getJoin();
    joining.getMulticastConfig().setEnabled(false);
    joining.getAutoDetectionConfig().setEnabled(false);
    joining.getTcpIpConfig().setEnabled(true);
    for (int p : join) {
      joining.getTcpIpConfig().addMember("127.0.0.1:" + p);
    }
    return config;
  }

  /** Properties as one argument, {@code k=v,k=v} ({@code -} for none), and back. */
  static String encode(Map<String, String> properties) {
    List<String> pairs = new ArrayList<>();
    properties.forEach((k, v) -> pairs.add(k + "=" + v));
    return pairs.isEmpty() ? "-" : String.join(",", pairs);
  }

  static Map<String, String> decode(String properties) {
    Map<String, String> map = new LinkedHashMap<>();
    if (!properties.equals("-")) {
      for (String pair : properties.split(",")) {
        int eq = pair.indexOf('=');
        map.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    return map;
  }

  /** This JVM's executor: every run of the benchmarks starts here. */
  ClusterExecutor executor() {
    return executor;
  }

  /** The member processes, oldest first. */
  List<Process> processes() {
    return List.copyOf(processes);
  }

  /**
   * Returns the CPU time used so far by this JVM and the member processes alive now, in
   * nanoseconds (the member processes' in clock ticks, 10 ms on Linux: compare over many runs).
   */
  long cpuNanos() {
    long nanos = ownCpuNanos();
    for (Process process : processes) {
      nanos += process.info().totalCpuDuration().orElseThrow().toNanos();
    }
    return nanos;
  }

  /** Returns the CPU time used so far by this JVM, in nanoseconds. */
  static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Starts one more member process and waits until it serves the DAGs. */
  Process add() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dorg.slf4j.simpleLogger.log.com.hazelcast=warn",
        "-cp", System.getProperty("java.class.path"), BenchMember.class.getName(),
        name, Integer.toString(freePort()), Integer.toString(port), Integer.toString(slots),
        encode(properties)));
    command.addAll(params.toArgs());
    Process process = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile())).start();
    processes.add(process); // from now on, close() kills it
    awaitReady(process);
    awaitSize(1 + processes.size());
    return process;
  }

  /** Kills {@code process} (if it is still alive, or stopped) and forgets it. */
  void remove(Process process) throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
    processes.remove(process);
  }

  private void awaitReady(Process process) throws InterruptedException {
    BufferedReader out = process.inputReader(StandardCharsets.UTF_8);
    CompletableFuture<String> line = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        line.complete(out.readLine());
      } catch (IOException e) {
        line.completeExceptionally(e);
      }
    });
    String ready;
    try {
      ready = line.get(STARTUP.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      ready = e.toString();
    }
    if (!"ready".equals(ready)) {
      throw new IllegalStateException("member process " + process.pid() + " did not get ready "
          + "within " + STARTUP.toSeconds() + " s (its stderr is in " + stderr + "): " + ready);
    }
  }

  /** Waits until Hazelcast counts exactly {@code size} members (a dead one may still count). */
  void awaitSize(int size) throws InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (hz.getCluster().getMembers().size() != size) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the cluster has " + hz.getCluster().getMembers().size()
            + " members after " + STARTUP.toSeconds() + " s, not " + size);
      }
      Thread.sleep(10); // polling membership, not timing anything
    }
  }

  private void killProcesses() {
    for (Process process : processes) {
      process.destroyForcibly();
    }
  }

  /** Stops this member first, so that only the member processes log the others' departure. */
  @Override
  public void close() throws InterruptedException {
    executor.close();
    hz.getLifecycleService().terminate();
    killProcesses();
    for (Process process : processes) {
      process.waitFor();
    }
    processes.clear();
    Runtime.getRuntime().removeShutdownHook(hook);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
