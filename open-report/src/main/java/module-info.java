/**
 * Seeing a run of OPEN: a self-contained HTML report of a finished run ({@link
 * dev.open.report.HtmlReport}), the retries it needs recorded while the run goes ({@link
 * dev.open.report.RunTimeline}), and progress on the console while it runs ({@link
 * dev.open.report.ConsoleProgress}).
 */
module dev.open.report {
  requires transitive dev.open.dag;
  requires org.eclipse.elk.core;
  requires org.eclipse.elk.graph;
  requires org.eclipse.elk.alg.layered;
  requires org.eclipse.emf.common;
  requires org.jline.terminal;

  exports dev.open.report;
}
