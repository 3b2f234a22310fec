package dev.open.bench.cluster;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import dev.open.cluster.ClusterRun;
import dev.open.dag.RunReport;

/**
 * The time from a member's death to its nodes running elsewhere. A 3-member cluster runs {@link
 * BenchDags#failover}: {@value #NODES} long nodes spread over the members, each logging its
 * start with its process id and the wall clock. Once all have started, the member process that
 * runs the most of them is killed — with SIGKILL (the process is gone: its peers' connections
 * close at once) or with SIGSTOP (a frozen host: the connections stay open, only missing
 * heartbeats tell) — and the benchmark reads the log until each of the victim's nodes has
 * started on another member (or the run has ended). It then kills the victim if it is only
 * stopped, starts a new member process in its place and lets the run finish, which should
 * succeed: a run that fails is counted, said on stderr, and the command ends with status 1.
 *
 * <p>Under Hazelcast's defaults, and under shorter heartbeat settings, each in a cluster of its
 * own. The connection monitor's fault count matters only when connections close (SIGKILL), so
 * the set lowering it is tried with SIGKILL alone. SIGSTOP under the defaults waits for the
 * 60 s heartbeat timeout: it runs only with {@code --slow}.
 */
final class Failover {
  static final int NODES = 6;
  private static final int MEMBERS = 3;
  /** Longer than any detection: SIGSTOP under the defaults takes a minute and more. */
  private static final Duration DETECTION_LIMIT = Duration.ofMinutes(3);
  private static final String HEARTBEAT = "hazelcast.heartbeat.interval.seconds";
  private static final String NO_HEARTBEAT = "hazelcast.max.no.heartbeat.seconds";
  private static final String FAULTS = "hazelcast.connection.monitor.max.faults";

  private Failover() {}

  /** Hazelcast's failure-detection settings under test, and the signals to try them with. */
  private record Detection(String label, Map<String, String> properties, List<Signal> signals) {}

  /** How the victim dies. */
  private enum Signal {
    SIGKILL {
      @Override
      void send(Process process) {
        process.destroyForcibly();
      }
    },
    SIGSTOP {
      @Override
      void send(Process process) throws IOException, InterruptedException {
        int exit = new ProcessBuilder("kill", "-STOP", Long.toString(process.pid()))
            .inheritIO().start().waitFor();
        if (exit != 0) {
          throw new IllegalStateException("kill -STOP " + process.pid() + " exited with " + exit);
        }
      }
    };

    abstract void send(Process process) throws IOException, InterruptedException;
  }

  /** One node's start, as logged: {@code start,NODE,PID,EPOCH_MILLIS}. */
  private record Start(String node, long pid, long millis) {
    static Start parse(String line) {
      String[] f = line.split(",");
      return new Start(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]));
    }
  }

  /**
   * One kill: the milliseconds from it to the start elsewhere of each of the victim's nodes that
   * did start elsewhere, how many nodes the victim had, the relocations the run counted, and what
   * went wrong with the run, if anything.
   */
  private record Trial(List<Long> moves, int victimNodes, int relocations,
      Optional<String> problem) {}

  /** Runs every case; returns whether every run succeeded. */
  static boolean run(Options options, Params params, String name, Path stderr, PrintStream out)
      throws Exception {
    out.printf(Locale.ROOT, "%nfailover: ms from killing a member process to its nodes starting "
        + "on another member; %d members, %d nodes of %d ms, %d trials per case%n", MEMBERS,
        NODES, params.failoverMillis(), options.trials());
    out.println("(defaults: a heartbeat every 5 s; a member dropped after 60 s without one, or "
        + "after more than 3 connection faults, counted at most every 100 ms; the other settings "
        + "change what they name)");
    out.println("settings                                    signal   trials  first_ms: min  "
        + "median     max  all_ms: median  moved  relocations  failed_runs");
    boolean succeeded = true;
    List<Detection> settings = settings(options.slow());
    for (int s = 0; s < settings.size(); s++) {
      Detection detection = settings.get(s);
      try (LocalCluster cluster = LocalCluster.start(name + "-" + s, MEMBERS, options.slots(),
          detection.properties(), params, stderr)) {
        for (Signal signal : detection.signals()) {
          succeeded &= trials(cluster, detection, signal, options.trials(), params.log(), out);
        }
      }
    }
    if (!options.slow()) {
      out.printf("%-42s  %-7s  not run: add --slow (60 s or more per trial)%n", "defaults",
          Signal.SIGSTOP);
    }
    return succeeded;
  }

  private static List<Detection> settings(boolean slow) {
    return List.of(
        new Detection("defaults", Map.of(),
            slow ? List.of(Signal.SIGKILL, Signal.SIGSTOP) : List.of(Signal.SIGKILL)),
        new Detection("heartbeat 1 s, no-heartbeat 5 s", Map.of(HEARTBEAT, "1",
            NO_HEARTBEAT, "5"), List.of(Signal.SIGKILL, Signal.SIGSTOP)),
        new Detection("heartbeat 1 s, no-heartbeat 5 s, faults 1", Map.of(HEARTBEAT, "1",
            NO_HEARTBEAT, "5", FAULTS, "1"), List.of(Signal.SIGKILL)));
  }

  /** Runs and prints one case; returns whether every run succeeded. */
  private static boolean trials(LocalCluster cluster, Detection detection, Signal signal,
      int count, Path log, PrintStream out) throws Exception {
    boolean succeeded = true;
    List<Trial> trials = new ArrayList<>();
    for (int t = 0; t < count; t++) {
      Trial trial = trial(cluster, signal, log);
      trial.problem().ifPresent(problem -> System.err.println("failover, "
          + detection.label() + ", " + signal + ": " + problem));
      succeeded &= trial.problem().isEmpty();
      trials.add(trial);
    }
    row(out, detection.label(), signal, trials);
    return succeeded;
  }

  private static Trial trial(LocalCluster cluster, Signal signal, Path log) throws Exception {
    long offset = Files.size(log);
    ClusterRun run = cluster.executor().start(BenchDags.FAILOVER);
    CompletableFuture<RunReport> done = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> {
      try {
        done.complete(run.await());
      } catch (InterruptedException | RuntimeException e) {
        done.completeExceptionally(e);
      }
    });
    Map<String, Start> started = awaitStarts(log, offset, s -> true, NODES, done);
    Process victim = busiest(cluster.processes(), started);
    List<String> nodes = started.values().stream().filter(s -> s.pid() == victim.pid())
        .map(Start::node).toList();
    long killedAt = System.currentTimeMillis();
    signal.send(victim);
    Map<String, Start> moved = awaitStarts(log, offset,
        s -> nodes.contains(s.node()) && s.pid() != victim.pid(), nodes.size(), done);
    cluster.remove(victim);
    cluster.add();
    RunReport report = done.get();
    return new Trial(moved.values().stream().map(s -> s.millis() - killedAt).toList(),
        nodes.size(), run.relocations().values().stream().mapToInt(Integer::intValue).sum(),
        BenchDags.problem(report));
  }

  /** The member process that started the most nodes. */
  private static Process busiest(List<Process> processes, Map<String, Start> started) {
    Process busiest = null;
    long most = 0;
    for (Process process : processes) {
      long count = started.values().stream().filter(s -> s.pid() == process.pid()).count();
      if (count > most) {
        busiest = process;
        most = count;
      }
    }
    if (busiest == null) {
      throw new IllegalStateException("no member process runs a node: " + started.values());
    }
    return busiest;
  }

  /**
   * Reads the log from {@code offset} until {@code count} nodes have a start that {@code which}
   * accepts, or the run is {@code done}; returns the first such start of each.
   */
  private static Map<String, Start> awaitStarts(Path log, long offset, Predicate<Start> which,
      int count, CompletableFuture<RunReport> done) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + DETECTION_LIMIT.toNanos();
    while (true) {
      boolean ended = done.isDone(); // read after: a start logged before the end is not missed
      Map<String, Start> found = new LinkedHashMap<>();
      byte[] bytes = Files.readAllBytes(log);
      String text = new String(bytes, (int) offset, bytes.length - (int) offset,
          StandardCharsets.US_ASCII);
      for (String line : text.substring(0, text.lastIndexOf('\n') + 1).lines().toList()) {
        Start start = Start.parse(line);
        if (which.test(start)) {
          found.putIfAbsent(start.node(), start);
        }
      }
      if (found.size() >= count || ended) {
        return found;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("after " + DETECTION_LIMIT.toMinutes() + " min, only "
            + found.size() + " of " + count + " nodes started as awaited: " + found.values());
      }
      Thread.sleep(2); // the log has the times; polling only notices them
    }
  }

  /**
   * Prints a case: the first of the victim's nodes to start elsewhere and the last (in trials
   * where all did), the nodes that did of those the victim had, relocations and failed runs.
   */
  private static void row(PrintStream out, String settings, Signal signal, List<Trial> trials) {
    long[] first = trials.stream().filter(t -> !t.moves().isEmpty())
        .mapToLong(t -> Collections.min(t.moves())).sorted().toArray();
    long[] all = trials.stream().filter(t -> t.moves().size() == t.victimNodes())
        .mapToLong(t -> Collections.max(t.moves())).sorted().toArray();
    out.printf(Locale.ROOT, "%-42s  %-7s  %6d  %13s  %6s  %6s  %14s  %5s  %11d  %11d%n",
        settings, signal, trials.size(), at(first, 0), at(first, first.length / 2),
        at(first, first.length - 1), at(all, all.length / 2),
        trials.stream().mapToInt(t -> t.moves().size()).sum() + "/"
            + trials.stream().mapToInt(Trial::victimNodes).sum(),
        trials.stream().mapToInt(Trial::relocations).sum(),
        trials.stream().filter(t -> t.problem().isPresent()).count());
  }

  private static String at(long[] sorted, int i) {
    return sorted.length == 0 ? "-" : Long.toString(sorted[i]);
  }
}
