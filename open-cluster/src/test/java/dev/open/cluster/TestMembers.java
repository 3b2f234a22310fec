package dev.open.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

/**
 * Hazelcast members for tests: TCP-IP join on 127.0.0.1 (no multicast), a cluster name of their
 * own so that concurrent test runs never meet, failure detection tuned as docs/cluster.md
 * recommends, phone-home off, logging through SLF4J.
 */
final class TestMembers {
  private TestMembers() {}

  /** The configuration of a member on {@code port} of a cluster whose members use {@code ports}. */
  static Config config(String cluster, int port, List<Integer> ports) {
    Config config = new Config().setClusterName(cluster);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.partition.count", "31");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
    config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true);
    for (int p : ports) {
      join.getTcpIpConfig().addMember("127.0.0.1:" + p);
    }
    return config;
  }

  /** Returns {@code count} ports free on 127.0.0.1 a moment ago, for members to take. */
  static List<Integer> freePorts(int count) {
    List<java.net.ServerSocket> sockets = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        java.net.ServerSocket socket = new java.net.ServerSocket(0, 1,
            java.net.InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports.add(socket.getLocalPort());
      }
      return ports;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      for (java.net.ServerSocket socket : sockets) {
        try {
          socket.close();
        } catch (java.io.IOException ignored) {
          // closing a listening socket we own
        }
      }
    }
  }

  /** Starts {@code count} members of a new cluster in this JVM, on free ports. */
  static List<HazelcastInstance> start(int count) {
    String cluster = "open-test-" + UUID.randomUUID();
    List<Integer> ports = freePorts(count);
    List<HazelcastInstance> members = new ArrayList<>();
    for (int port : ports) {
      members.add(Hazelcast.newHazelcastInstance(config(cluster, port, ports)));
    }
    return members;
  }
}
