package dev.open.report;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * Opens a report in headless Chromium (Debian's {@code chromium}) and reads back what its script
 * wrote on {@code <body>}: whether it rendered, what it drew, the errors it caught. Tests that
 * need it are skipped without a browser, except under CI ({@code CI=true}), where a missing
 * browser fails them: .ci/run installs it.
 */
public final class Browser {
  private static final Pattern BODY = Pattern.compile("<body([^>]*)>");
  private static final Pattern ATTRIBUTE = Pattern.compile("data-([a-z-]+)=\"([^\"]*)\"");

  private final Path executable;

  private Browser(Path executable) {
    this.executable = executable;
  }

  /** Returns the browser, or skips the test (fails it under CI) when there is none. */
  public static Browser require() {
    Optional<Path> found = find();
    if (found.isEmpty() && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("no chromium on PATH: CI must install it (.ci/run)");
    }
    Assumptions.assumeTrue(found.isPresent(), "no chromium on PATH");
    return new Browser(found.get());
  }

  static Optional<Path> find() {
    return Stream.of("chromium", "chromium-browser", "google-chrome").map(Browser::onPath)
        .flatMap(Optional::stream).findFirst();
  }

  /** The executable {@code command} on the {@code PATH}, if there is one. */
  static Optional<Path> onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return Optional.of(Path.of(dir, command));
      }
    }
    return Optional.empty();
  }

  /**
   * Loads {@code html} and returns the {@code data-} attributes its script set on {@code <body>}
   * (names without {@code data-}, as in the DOM: {@code rendered}, {@code graph-boxes}…).
   *
   * @param html the page
   * @return the attributes
   */
  public Map<String, String> load(Path html) throws IOException, InterruptedException {
    return attributes(dom(html));
  }

  /** Loads {@code html} and returns the page's DOM after its script ran, serialized. */
  public String dom(Path html) throws IOException, InterruptedException {
    return run(List.of("--dump-dom", html.toUri().toString()));
  }

  /** The {@code data-} attributes of {@code <body>} in a serialized DOM. */
  public static Map<String, String> attributes(String dom) {
    Matcher body = BODY.matcher(dom);
    if (!body.find()) {
      throw new AssertionError("chromium printed no <body>: " + dom.substring(0,
          Math.min(500, dom.length())));
    }
    Map<String, String> data = new LinkedHashMap<>();
    Matcher a = ATTRIBUTE.matcher(body.group(1));
    while (a.find()) {
      data.put(a.group(1), a.group(2).replace("&quot;", "\"").replace("&amp;", "&"));
    }
    return data;
  }

  /** Writes a screenshot of {@code html} to {@code png}, for a person to look at. */
  public void screenshot(Path html, Path png) throws IOException, InterruptedException {
    Files.createDirectories(png.toAbsolutePath().getParent());
    run(List.of("--screenshot=" + png.toAbsolutePath(), html.toUri().toString()));
    if (!Files.isRegularFile(png) || Files.size(png) == 0) {
      throw new AssertionError("chromium wrote no screenshot to " + png);
    }
  }

  private String run(List<String> args) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory("open-chromium");
    Path out = Files.createTempFile("open-chromium", ".out");
    try {
      List<String> command = new ArrayList<>(List.of(executable.toString(), "--headless",
          "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
          "--hide-scrollbars", "--window-size=1400,1700", "--user-data-dir=" + profile));
      command.addAll(args);
      Process p = new ProcessBuilder(command).redirectOutput(out.toFile())
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(180, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("chromium did not finish in 180 s: " + command);
      }
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(out);
      deleteTree(profile);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
