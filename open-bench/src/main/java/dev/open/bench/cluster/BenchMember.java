package dev.open.bench.cluster;

import java.util.List;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import dev.open.cluster.ClusterExecutor;

/**
 * A member process of the cluster benchmarks: joins the cluster, serves the benchmark DAGs
 * ({@link BenchDags}) and prints {@code ready}; it exits when its stdin closes, that is when the
 * benchmark that started it ends or dies.
 *
 * <pre>
 * args: CLUSTER PORT JOIN_PORT SLOTS PROPERTIES PARAMS...
 * </pre>
 *
 * {@code PROPERTIES} are Hazelcast properties as {@code k=v,k=v} ({@code -} for none); {@code
 * PARAMS} are {@link Params#toArgs()}.
 */
public final class BenchMember {
  private BenchMember() {}

  public static void main(String[] args) throws Exception {
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(LocalCluster.config(args[0],
        Integer.parseInt(args[1]), List.of(Integer.parseInt(args[2])),
        LocalCluster.decode(args[4])));
    Params params = Params.parse(List.of(args).subList(5, args.length));
    BenchDags.register(ClusterExecutor.builder(hz), params)
        .withMaxConcurrentNodes(Integer.parseInt(args[3])).build();
    System.out.println("ready");
    System.out.flush();
    while (System.in.read() != -1) {
      // nothing is sent: the pipe only tells when the benchmark is gone
    }
    Runtime.getRuntime().halt(0);
  }
}
