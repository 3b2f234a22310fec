package dev.open.bench.cluster;

import java.nio.file.Path;
import java.util.List;

/**
 * What shapes the benchmark DAGs. Every member builds its DAGs from the same parameters (the
 * coordinator passes them to each member process on its command line), so that the DAGs have
 * the same fingerprint everywhere.
 *
 * @param wide the empty tasks of the fan-out ({@link BenchDags#wide})
 * @param chain the empty tasks of the chain ({@link BenchDags#chain})
 * @param chains the parallel chains of sleeping nodes ({@link BenchDags#sleepers})
 * @param depth the nodes of each of those chains
 * @param sleepMillis how long each of those nodes sleeps
 * @param failoverNodes the long nodes of {@link BenchDags#failover}
 * @param failoverMillis how long each of those sleeps
 * @param log the file the failover nodes append their starts to
 */
record Params(int wide, int chain, int chains, int depth, long sleepMillis, int failoverNodes,
    long failoverMillis, Path log) {

  /** Returns the parameters as command-line arguments, read back by {@link #parse}. */
  List<String> toArgs() {
    return List.of(Integer.toString(wide), Integer.toString(chain), Integer.toString(chains),
        Integer.toString(depth), Long.toString(sleepMillis), Integer.toString(failoverNodes),
        Long.toString(failoverMillis), log.toString());
  }

  /** Reads the arguments written by {@link #toArgs}. */
  static Params parse(List<String> args) {
    return new Params(Integer.parseInt(args.get(0)), Integer.parseInt(args.get(1)),
        Integer.parseInt(args.get(2)), Integer.parseInt(args.get(3)), Long.parseLong(args.get(4)),
        Integer.parseInt(args.get(5)), Long.parseLong(args.get(6)), Path.of(args.get(7)));
  }
}
