package dev.open.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.open.report.Browser;

/**
 * The replay CLI's {@code --report} for a real workflow made 100,000 nodes large: 1,924 copies of
 * WfCommons' 1000genome instance (52 tasks of 5 kinds). The page opens in headless Chromium,
 * draws the five kinds of task as groups and every task on the timeline.
 */
class ReplayReportInBrowserTest {

  @Test
  void aHundredThousandTaskReplayIsReportedAndRendered() throws Exception {
    Browser browser = Browser.require();
    Path instance = Path.of("src/test/resources/wfinstances/1000genome-chameleon-2ch-100k-001.json");
    Path html = Path.of("target", "report-screenshots", "replay-1000genome-x1924.html");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code = Main.replay(new String[] {instance.toString(), "--copies", "1924",
        "--critical-path", "1", "--report", html.toString(), "--quiet"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"tasks\":100048");
    Map<String, String> page = browser.load(html);
    assertThat(page).containsEntry("rendered", "true").doesNotContainKey("errors");
    assertThat(page).containsEntry("graph-boxes", "5").containsEntry("timeline-bars", "100048");
    browser.screenshot(html, html.resolveSibling("replay-1000genome-x1924.png"));
    System.out.printf(Locale.ROOT, "report figures: replay of 100,048 tasks: %,d bytes, script %s"
        + " ms, %s ms since navigation%n", Files.size(html), page.get("render-ms"),
        page.get("since-navigation-ms"));
  }
}
