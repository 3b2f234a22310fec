package dev.open.bench.cluster;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options of {@code open-bench.jar cluster}: which part to run and the sizes, each with a
 * default that gives the figures of docs/benchmarks.md.
 *
 * @param part overhead, scaling, failover or all
 * @param slots nodes each member runs at once
 * @param wide empty tasks of the fan-out
 * @param chain empty tasks of the chain
 * @param runs warm runs of each overhead DAG, after half as many warm-up runs
 * @param chains parallel chains of sleeping nodes
 * @param depth nodes of each chain
 * @param sleepMillis how long each of them sleeps
 * @param repeats runs of the scaling DAG per cluster size, after as many warm-up runs
 * @param trials kills per failover case
 * @param nodeMillis how long each failover node sleeps
 * @param slow whether to run the failover case that takes a minute per trial
 */
record Options(String part, int slots, int wide, int chain, int runs, int chains, int depth,
    int sleepMillis, int repeats, int trials, int nodeMillis, boolean slow) {

  static final String USAGE = """
      usage: java -jar open-bench.jar cluster [overhead|scaling|failover|all] [options]
        all:      --slots N     nodes each member runs at once (8)
        overhead: --wide N      empty tasks between one node and a fan-in (1000)
                  --chain N     empty tasks in a line (100)
                  --runs N      warm runs, median taken, after N/2 warm-up runs (10)
        scaling:  --chains N    independent chains of sleeping nodes (24)
                  --depth N     nodes per chain (40)
                  --sleep-ms N  how long each node sleeps (20)
                  --repeats N   runs per cluster size, median taken, after N warm-up runs (3)
        failover: --trials N    kills per case (3)
                  --node-ms N   how long each of the 6 nodes sleeps (3000)
                  --slow        also SIGSTOP under Hazelcast's defaults (60 s and more a trial)""";

  private static final List<String> PARTS = List.of("overhead", "scaling", "failover", "all");

  /**
   * Reads the command's arguments.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static Options parse(String[] args) {
    int i = 0;
    String part = "all";
    if (args.length > 0 && !args[0].startsWith("--")) {
      part = args[0];
      i = 1;
      if (!PARTS.contains(part)) {
        throw new IllegalArgumentException("unknown part '" + part + "': give one of " + PARTS);
      }
    }
    Map<String, Integer> numbers = new LinkedHashMap<>(Map.of("--slots", 8, "--wide", 1000,
        "--chain", 100, "--runs", 10, "--chains", 24, "--depth", 40, "--sleep-ms", 20,
        "--repeats", 3, "--trials", 3, "--node-ms", 3000));
    boolean slow = false;
    for (; i < args.length; i++) {
      String option = args[i];
      if (option.equals("--slow")) {
        slow = true;
      } else if (numbers.containsKey(option)) {
        numbers.put(option, positive(option, ++i < args.length ? args[i] : null));
      } else {
        throw new IllegalArgumentException("unknown option: " + option);
      }
    }
    return new Options(part, numbers.get("--slots"), numbers.get("--wide"),
        numbers.get("--chain"), numbers.get("--runs"), numbers.get("--chains"),
        numbers.get("--depth"), numbers.get("--sleep-ms"), numbers.get("--repeats"),
        numbers.get("--trials"), numbers.get("--node-ms"), slow);
  }

  private static int positive(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    try {
      int n = Integer.parseInt(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new IllegalArgumentException(option + " needs a positive whole number, got " + value);
  }

  /** Whether to run {@code name} (overhead, scaling or failover). */
  boolean runs(String name) {
    return part.equals("all") || part.equals(name);
  }

  /** The DAG parameters every member builds from, failover nodes logging to {@code log}. */
  Params params(Path log) {
    return new Params(wide, chain, chains, depth, sleepMillis, Failover.NODES, nodeMillis, log);
  }
}
