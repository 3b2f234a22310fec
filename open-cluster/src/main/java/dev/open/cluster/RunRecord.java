package dev.open.cluster;

import java.io.Serializable;
import java.util.Map;
import java.util.UUID;

import com.hazelcast.map.EntryProcessor;

/**
 * A cluster run as every member sees it, in the {@code IMap} {@value #MAP} under its id: its DAG,
 * the member coordinating it and how often it changed hands, and, once finished, its encoded
 * report. Changed only by entry processors, which compare the epoch on the partition's own thread:
 * so of several members trying to take a run over, exactly one succeeds.
 *
 * @param id the run's id
 * @param dag the DAG's name
 * @param fingerprint the DAG's {@link Fingerprint}: only a member that built the same DAG may
 *     take the run over
 * @param scope the scope of the run's values in the cluster's store ({@link ClusterStore})
 * @param coordinator the member coordinating the run
 * @param epoch 0 for the member that started it, +1 for each takeover
 * @param startedAtMillis when the run started, in epoch milliseconds
 * @param report the encoded final report ({@link ReportCodec}); null while the run goes on
 */
record RunRecord(long id, String dag, String fingerprint, String scope, UUID coordinator,
    int epoch, long startedAtMillis, byte[] report) implements Serializable {
  static final String MAP = "open.runs";

  boolean finished() {
    return report != null;
  }

  /** Makes {@code member} the coordinator if the record is still at {@code epoch}, unfinished. */
  record TakeOver(int epoch, UUID member) implements EntryProcessor<Long, RunRecord, RunRecord> {
    @Override
    public RunRecord process(Map.Entry<Long, RunRecord> entry) {
      RunRecord r = entry.getValue();
      if (r == null || r.finished() || r.epoch() != epoch) {
        return null;
      }
      RunRecord mine = new RunRecord(r.id(), r.dag(), r.fingerprint(), r.scope(), member,
          epoch + 1, r.startedAtMillis(), null);
      entry.setValue(mine);
      return mine;
    }
  }

  /** Records the report if the record is still at {@code epoch}: the coordinator's last word. */
  record Finish(int epoch, byte[] report) implements EntryProcessor<Long, RunRecord, Boolean> {
    @Override
    public Boolean process(Map.Entry<Long, RunRecord> entry) {
      RunRecord r = entry.getValue();
      if (r == null || r.finished() || r.epoch() != epoch) {
        return false;
      }
      entry.setValue(new RunRecord(r.id(), r.dag(), r.fingerprint(), r.scope(), r.coordinator(),
          epoch, r.startedAtMillis(), report));
      return true;
    }
  }
}
