package dev.open.bench.cluster;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import com.hazelcast.instance.BuildInfoProvider;

/**
 * {@code open-bench.jar cluster [overhead|scaling|failover|all] [options]}: the cluster
 * benchmarks, each on members started for it on this machine ({@link LocalCluster}): this JVM
 * coordinates, the other members are processes of their own.
 *
 * <ul>
 *   <li>{@link Overhead}: empty nodes, local executor vs a 3-member cluster, cold and warm;
 *   <li>{@link Scaling}: sleeping nodes on 1, 2 and 3 members;
 *   <li>{@link Failover}: from a member's death (SIGKILL, SIGSTOP) to its nodes running
 *       elsewhere, under Hazelcast's default failure detection and tuned settings.
 * </ul>
 *
 * Prints one table per measurement, after the JVM and the command line. Returns 0 on success, 1
 * when a run failed or a member misbehaved, 2 on bad usage ({@link Options#USAGE}).
 */
public final class ClusterTiming {
  private ClusterTiming() {}

  public static int run(String[] args, PrintStream out) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(Options.USAGE);
      return 2;
    }
    // Before Hazelcast's first logger: slf4j-simple reads its levels once.
    System.setProperty("org.slf4j.simpleLogger.log.com.hazelcast", "warn");
    header(out, args);
    String name = "open-bench-" + UUID.randomUUID();
    Path dir = Files.createTempDirectory("open-bench-cluster");
    Path log = Files.createFile(dir.resolve("starts.log"));
    Path stderr = Files.createFile(dir.resolve("members.log"));
    Params params = options.params(log);
    boolean succeeded = true;
    try {
      if (options.runs("overhead")) {
        Overhead.run(options, params, name + "-overhead", stderr, out);
      }
      if (options.runs("scaling")) {
        Scaling.run(options, params, name + "-scaling", stderr, out);
      }
      if (options.runs("failover")) {
        succeeded = Failover.run(options, params, name + "-failover", stderr, out);
      }
    } catch (IllegalStateException e) {
      out.flush();
      System.err.println("error: " + e.getMessage());
      System.err.println("the member processes' stderr is kept in " + stderr);
      return 1;
    }
    if (!succeeded) {
      System.err.println("a failover run failed; the member processes' stderr is kept in "
          + stderr);
      return 1;
    }
    for (Path file : List.of(log, stderr, dir)) {
      Files.delete(file);
    }
    return 0;
  }

  private static void header(PrintStream out, String[] args) {
    out.println("command: " + ProcessHandle.current().info().commandLine()
        .orElse("java -jar open-bench.jar cluster " + String.join(" ", args)));
    out.printf("JVM: %s %s (%s), %d processors; Hazelcast %s%n",
        System.getProperty("java.vm.name"), System.getProperty("java.vm.version"),
        System.getProperty("java.vm.vendor"), Runtime.getRuntime().availableProcessors(),
        BuildInfoProvider.getBuildInfo().getVersion());
    out.println("members: this JVM (coordinator) and member processes with default JVM options, "
        + "on 127.0.0.1; Hazelcast's defaults but join waits of 0 s and the failure detection "
        + "a table names");
  }
}
