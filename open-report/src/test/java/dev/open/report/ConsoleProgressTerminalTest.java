package dev.open.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConsoleProgress#create()} in a child JVM, once on a pseudo-terminal (util-linux's
 * {@code script}) and once with standard error in a file: it redraws one line on the terminal and
 * prints plain lines elsewhere.
 */
class ConsoleProgressTerminalTest {
  @TempDir
  Path dir;

  @Test
  void onATerminalTheLineIsRedrawnInPlace() throws Exception {
    assumeTrue(Browser.onPath("script").isPresent(), "util-linux's script is not on the PATH");
    String java = javaCommand().stream().map(a -> "'" + a + "'").collect(Collectors.joining(" "));
    Path out = dir.resolve("tty.out");
    ProcessBuilder builder = new ProcessBuilder("script", "-qfec", java + " 2>&1", "/dev/null")
        .redirectOutput(out.toFile()).redirectErrorStream(true);
    builder.environment().put("TERM", "xterm-256color");
    Process child = builder.start();
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String text = Files.readString(out, StandardCharsets.UTF_8);

    // redraws: a carriage return, the line, the terminal's clear-to-end-of-line (xterm: ESC [ K)
    // (the terminal turns every newline into CR LF as well, so count the clears, not the CRs)
    long redraws = text.split("\r[^\r\n]*done \\([^\r\n]*\u001b\\[K", -1).length - 1;
    assertThat(redraws).as(text).isGreaterThanOrEqualTo(3); // 1.5 s at five redraws a second
    assertThat(text).contains("30/30 done (100%)").contains("tty run ").contains(" succeeded in ");
  }

  @Test
  void elsewhereLinesArePlain() throws Exception {
    Path out = dir.resolve("plain.out");
    Process child = new ProcessBuilder(javaCommand()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String text = Files.readString(out, StandardCharsets.UTF_8);

    assertThat(text).doesNotContain("\r").doesNotContain("\u001b");
    // 1.5 s is less than the ten seconds between plain lines: only the run's last line
    assertThat(text.lines().filter(l -> l.contains("done ("))).singleElement()
        .asString().startsWith("30/30 done (100%)");
  }

  private static List<String> javaCommand() {
    String classPath = Stream.of("jdk.module.path", "java.class.path")
        .map(System::getProperty).filter(p -> p != null && !p.isEmpty())
        .collect(Collectors.joining(File.pathSeparator));
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        classPath, ProgressChild.class.getName());
  }
}
