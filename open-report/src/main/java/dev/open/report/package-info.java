/**
 * Seeing a run: {@link dev.open.report.HtmlReport} writes one self-contained HTML file from a
 * {@link dev.open.dag.RunReport} (the DAG as a picture coloured by status, a timeline of every
 * task by lane, a table of nodes that sorts and filters, the run's totals);
 * {@link dev.open.report.RunTimeline} records when attempts were retried, for the timeline; and
 * {@link dev.open.report.ConsoleProgress} shows a run's progress on the console.
 *
 * <pre>{@code
 * RunTimeline timeline = new RunTimeline();
 * try (ConsoleProgress progress = ConsoleProgress.create()) {
 *   DagExecutor executor = DagExecutor.builder()
 *       .withListener(timeline)
 *       .withListener(progress)
 *       .build();
 *   RunReport report = executor.run(dag);
 *   HtmlReport.write(report, timeline, Path.of("target/report.html"));
 * }
 * }</pre>
 */
package dev.open.report;
