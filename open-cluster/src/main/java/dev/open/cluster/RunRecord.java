package dev.open.cluster;

import java.io.Serializable;
import java.util.Map;
import java.util.UUID;

import com.hazelcast.map.EntryProcessor;

/**
 * A cluster run as every member sees it, in the {@code IMap} {@value #MAP} under its id: its DAG,
 * the member coordinating it, how often it changed hands and whether it finished. Its encoded
 * report lives apart, in {@value #REPORTS} under {@link #reportKey} — so that the records every
 * member sweeps for orphans stay small. Changed only by entry processors, which compare the
 * epoch on the partition's own thread: so of several members trying to take a run over, exactly
 * one succeeds, and only the coordinator of the last epoch finishes the run.
 *
 * @param id the run's id
 * @param dag the DAG's name
 * @param fingerprint the DAG's {@link Fingerprint}: only a member that built the same DAG may
 *     take the run over
 * @param scope the scope of the run's values in the cluster's store ({@link ClusterStore})
 * @param coordinator the member coordinating the run
 * @param epoch 0 for the member that started it, +1 for each takeover
 * @param startedAtMillis when the run started, in epoch milliseconds
 * @param finished whether the run has finished; its report is then under {@link #reportKey}
 */
record RunRecord(long id, String dag, String fingerprint, String scope, UUID coordinator,
    int epoch, long startedAtMillis, boolean finished) implements Serializable {
  static final String MAP = "open.runs";
  static final String REPORTS = "open.reports";

  /** The key of the report of this record's epoch in {@value #REPORTS}. */
  String reportKey() {
    return id + ":" + epoch;
  }

  /**
   * Makes {@code member} the coordinator if the record is still at {@code epoch}, unfinished.
   *
   * @param epoch the epoch the taker saw
   * @param member the member taking the run over
   */
  record TakeOver(int epoch, UUID member) implements EntryProcessor<Long, RunRecord, RunRecord> {
    @Override
    public RunRecord process(Map.Entry<Long, RunRecord> entry) {
      RunRecord r = entry.getValue();
      if (r == null || r.finished() || r.epoch() != epoch) {
        return null;
      }
      RunRecord mine = new RunRecord(r.id(), r.dag(), r.fingerprint(), r.scope(), member,
          epoch + 1, r.startedAtMillis(), false);
      entry.setValue(mine);
      return mine;
    }
  }

  /**
   * Marks the run finished if the record is still at {@code epoch}: the coordinator's last word,
   * said after it stored its report.
   *
   * @param epoch the coordinator's epoch
   */
  record Finish(int epoch) implements EntryProcessor<Long, RunRecord, Boolean> {
    @Override
    public Boolean process(Map.Entry<Long, RunRecord> entry) {
      RunRecord r = entry.getValue();
      if (r == null || r.finished() || r.epoch() != epoch) {
        return false;
      }
      entry.setValue(new RunRecord(r.id(), r.dag(), r.fingerprint(), r.scope(), r.coordinator(),
          epoch, r.startedAtMillis(), true));
      return true;
    }
  }
}
