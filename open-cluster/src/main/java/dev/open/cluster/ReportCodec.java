package dev.open.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.open.dag.CacheOutcome;
import dev.open.dag.Dag;
import dev.open.dag.Node;
import dev.open.dag.NodeReport;
import dev.open.dag.NodeStatus;
import dev.open.dag.RunReport;
import dev.open.dag.RunStatus;
import dev.open.dag.store.CacheKey;
import dev.open.dag.store.ValueCodecs;

/**
 * A run's final report as it is kept in its {@link RunRecord}, for any member to rebuild: every
 * node's report, the values of the kept nodes (through the value codecs; one that cannot be
 * encoded is left out, and the rebuilt report says so when asked for it) and how often each node
 * was re-placed after losing its member.
 */
final class ReportCodec {
  private static final byte[] MAGIC = {'O', 'P', 'E', 'N', 'R', 'P', 'T', '1'};

  /** A decoded report and the relocations that came with it. */
  record Decoded(RunReport report, Map<String, Integer> relocations) {}

  private ReportCodec() {}

  static byte[] encode(RunReport report, ValueCodecs codecs, Map<String, Integer> relocations) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(MAGIC);
      out.writeLong(report.runId());
      out.writeUTF(report.status().name());
      instant(out, report.startedAt());
      instant(out, report.finishedAt());
      throwable(out, report.failure().orElse(null));
      List<NodeReport> nodes = report.nodes();
      out.writeInt(nodes.size());
      for (NodeReport node : nodes) {
        out.writeUTF(node.name());
        out.writeUTF(node.backend());
        out.writeUTF(node.status().name());
        out.writeInt(node.attempts());
        instant(out, node.startedAt());
        instant(out, node.finishedAt());
        throwable(out, node.error());
        CacheOutcome cache = node.cache();
        out.writeUTF(cache.kind().name());
        out.writeUTF(cache.key().map(CacheKey::hex).orElse(""));
        out.writeUTF(cache.reason());
        out.writeBoolean(cache.stored());
      }
      Dag dag = report.dag();
      List<WireValue> kept = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Node<?> node : dag.nodes()) {
        if ((node.isRetained() || dag.consumers(node).isEmpty())
            && report.node(node).status().hasValue()) {
          try {
            kept.add(WireValue.encode(codecs, report.result(node), "node '" + node.name() + "'"));
            names.add(node.name());
          } catch (RuntimeException notEncodable) {
            // Left out: RunReport.result says so on the members that rebuild the report.
          }
        }
      }
      out.writeInt(kept.size());
      for (int i = 0; i < kept.size(); i++) {
        out.writeUTF(names.get(i));
        out.writeUTF(kept.get(i).codec());
        out.writeInt(kept.get(i).bytes().length);
        out.write(kept.get(i).bytes());
      }
      out.writeInt(relocations.size());
      for (Map.Entry<String, Integer> moved : relocations.entrySet()) {
        out.writeUTF(moved.getKey());
        out.writeInt(moved.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }

  static Decoded decode(byte[] bytes, Dag dag, ValueCodecs codecs) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IllegalStateException("not a report of OPEN's cluster format 1");
      }
      long runId = in.readLong();
      RunStatus status = RunStatus.valueOf(in.readUTF());
      Instant startedAt = instant(in);
      Instant finishedAt = instant(in);
      Throwable failure = throwable(in);
      int count = in.readInt();
      List<NodeReport> nodes = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        String backend = in.readUTF();
        NodeStatus nodeStatus = NodeStatus.valueOf(in.readUTF());
        int attempts = in.readInt();
        Instant started = instant(in);
        Instant finished = instant(in);
        Throwable error = throwable(in);
        CacheOutcome.Kind kind = CacheOutcome.Kind.valueOf(in.readUTF());
        String key = in.readUTF();
        String reason = in.readUTF();
        boolean stored = in.readBoolean();
        nodes.add(new NodeReport(name, backend, nodeStatus, attempts, started, finished, error,
            new CacheOutcome(kind, key.isEmpty() ? Optional.empty()
                : Optional.of(new CacheKey(key)), reason, stored)));
      }
      int keptCount = in.readInt();
      Map<String, Object> values = new HashMap<>();
      for (int i = 0; i < keptCount; i++) {
        String name = in.readUTF();
        String codec = in.readUTF();
        byte[] value = in.readNBytes(in.readInt());
        values.put(name, new WireValue(codec, value).decode(codecs));
      }
      int movedCount = in.readInt();
      Map<String, Integer> relocations = new LinkedHashMap<>();
      for (int i = 0; i < movedCount; i++) {
        relocations.put(in.readUTF(), in.readInt());
      }
      return new Decoded(RunReport.of(dag, runId, status, startedAt, finishedAt, failure, nodes,
          values), relocations);
    } catch (IOException e) {
      throw new IllegalStateException("a run's report is truncated", e);
    }
  }

  private static void instant(DataOutputStream out, Instant t) throws IOException {
    out.writeBoolean(t != null);
    if (t != null) {
      out.writeLong(t.getEpochSecond());
      out.writeInt(t.getNano());
    }
  }

  private static Instant instant(DataInputStream in) throws IOException {
    return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
  }

  private static void throwable(DataOutputStream out, Throwable t) throws IOException {
    if (t == null) {
      out.writeInt(-1);
      return;
    }
    byte[] bytes = Failures.encode(t);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static Throwable throwable(DataInputStream in) throws IOException {
    int length = in.readInt();
    return length < 0 ? null : Failures.decode(in.readNBytes(length));
  }
}
