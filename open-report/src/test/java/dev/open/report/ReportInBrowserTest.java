package dev.open.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.open.dag.Dag;
import dev.open.dag.DagBuilder;
import dev.open.dag.DagExecutor;
import dev.open.dag.Node;
import dev.open.dag.RunReport;

/**
 * Opens reports in headless Chromium: they load without errors and draw the DAG, the timeline and
 * the table, from a 6-node run to a 100,000-node one. Screenshots go to {@code target/} for a
 * person to look at; sizes and render times are printed (docs/benchmarks.md).
 */
class ReportInBrowserTest {
  private static final Path OUT = Path.of("target", "report-screenshots");

  @Test
  void aSmallRunDrawsEveryNodeAndEveryTask() throws Exception {
    Browser browser = Browser.require();
    RunTimeline timeline = new RunTimeline();
    RunReport report = Runs.mixed(timeline);
    Path html = HtmlReport.write(report, timeline, OUT.resolve("mixed.html"));

    Map<String, String> page = browser.load(html);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors");
    assertThat(page).containsEntry("graph-boxes", "6");
    assertThat(page).containsEntry("timeline-bars", "5"); // all but the skipped node ran
    assertThat(page).containsEntry("table-rows", "6");
    browser.screenshot(html, OUT.resolve("mixed.png"));
  }

  /** Names and errors are the tasks' text: the page shows them, it never runs them as markup. */
  @Test
  void markupInNamesAndErrorsIsShownAsText() throws Exception {
    Browser browser = Browser.require();
    String hostile = "<img src=x onerror=\"document.body.dataset.pwned='yes'\">";
    DagBuilder b = Dag.builder("dag " + hostile);
    Node<Integer> named = b.task("node " + hostile, () -> 1);
    b.task("fails", named, x -> {
      throw new IllegalStateException("error " + hostile + " </script><script>x()</script>");
    });
    RunReport report = DagExecutor.builder().build().run(b.build());
    Path html = HtmlReport.write(report, OUT.resolve("hostile.html"));

    String dom = browser.dom(html);
    Map<String, String> page = Browser.attributes(dom);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors")
        .doesNotContainKey("pwned");
    assertThat(dom).doesNotContain("<img").contains("node &lt;img src=x");
  }

  @Test
  void aThousandNodeRunIsDrawnNodeByNode() throws Exception {
    Browser browser = Browser.require();
    RunReport report = Runs.layered(10, 100, 200);
    long writing = System.nanoTime();
    Path html = HtmlReport.write(report, OUT.resolve("layered-1k.html"));
    writing = System.nanoTime() - writing;

    Map<String, String> page = browser.load(html);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors");
    assertThat(page).containsEntry("graph-boxes", "1000").containsEntry("timeline-bars", "1000");
    assertThat(Integer.parseInt(page.get("table-rows"))).isBetween(10, 60);
    browser.screenshot(html, OUT.resolve("layered-1k.png"));
    figures("1,000 nodes (written in " + writing / 1_000_000 + " ms)", html, page);
  }

  @Test
  void aHundredThousandNodeRunIsDrawnByGroupsAndStaysResponsive() throws Exception {
    Browser browser = Browser.require();
    RunReport report = Runs.layered(50, 2000, 0);
    long writing = System.nanoTime();
    Path html = HtmlReport.write(report, OUT.resolve("layered-100k.html"));
    writing = System.nanoTime() - writing;

    Map<String, String> page = browser.load(html);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors");
    assertThat(page).containsEntry("graph-boxes", "50"); // a group per layer: step17-part#
    assertThat(page).containsEntry("timeline-bars", "100000");
    assertThat(Integer.parseInt(page.get("table-rows"))).isBetween(10, 60); // not 100,000 rows
    browser.screenshot(html, OUT.resolve("layered-100k.png"));
    figures("100,000 nodes (written in " + writing / 1_000_000 + " ms)", html, page);
  }

  private static void figures(String what, Path html, Map<String, String> page) throws Exception {
    System.out.printf(Locale.ROOT, "report figures: %s: %,d bytes, script %s ms, %s ms since "
            + "navigation%n", what, Files.size(html), page.get("render-ms"),
        page.get("since-navigation-ms"));
  }
}
