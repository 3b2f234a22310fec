package dev.open.bench;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The jar's entry point, compiled for Java 8 so that it loads on any JVM: OPEN needs Java 21 or
 * newer (virtual threads), and the {@code java} first on a PATH is often older. On a new enough
 * JVM it calls {@link Main} directly; otherwise it finds a JDK >= 21 (JAVA_HOME, then
 * /usr/lib/jvm, newest first), runs the same command there with the same JVM options and exits
 * with its status, or explains what it found.
 */
public final class Launcher {
  private static final int MIN_JAVA = 21;

  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (feature(System.getProperty("java.specification.version")) >= MIN_JAVA) {
      Class.forName("dev.open.bench.Main").getMethod("main", String[].class)
          .invoke(null, (Object) args);
      return;
    }
    List<String> tried = new ArrayList<String>();
    File java = findJava(tried);
    if (java == null) {
      System.err.println("error: open-bench needs Java " + MIN_JAVA + " or newer; this is Java "
          + System.getProperty("java.version") + " at " + System.getProperty("java.home") + ".");
      System.err.println("Looked for another JDK at: " + (tried.isEmpty() ? "nothing found" : tried));
      System.err.println("Run it with a JDK >= " + MIN_JAVA + ", or point JAVA_HOME at one.");
      System.exit(2);
    }
    String jar = new File(Launcher.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).getPath();
    List<String> command = new ArrayList<String>();
    command.add(java.getPath());
    // Keep the caller's JVM options (-Xmx, -D...) for the JVM that does the work.
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.add("-cp");
    command.add(jar);
    command.add("dev.open.bench.Main");
    command.addAll(Arrays.asList(args));
    Process child = new ProcessBuilder(command).inheritIO().start();
    System.exit(child.waitFor());
  }

  private static File findJava(List<String> tried) {
    List<File> homes = new ArrayList<File>();
    String javaHome = System.getenv("JAVA_HOME");
    if (javaHome != null && !javaHome.isEmpty()) {
      homes.add(new File(javaHome));
    }
    File[] installed = new File("/usr/lib/jvm").listFiles();
    if (installed != null) {
      Arrays.sort(installed, (a, b) -> Integer.compare(major(b), major(a)));
      homes.addAll(Arrays.asList(installed));
    }
    for (File home : homes) {
      int major = major(home);
      File java = new File(home, "bin/java");
      if (major >= MIN_JAVA && java.canExecute()) {
        return java;
      }
      if (major > 0) {
        tried.add(home + " (" + major + ")");
      }
    }
    return null;
  }

  /** Reads JAVA_VERSION from a JDK's release file; 0 if there is none. */
  private static int major(File home) {
    File release = new File(home, "release");
    if (!release.isFile()) {
      return 0;
    }
    Properties p = new Properties();
    try (InputStream in = new FileInputStream(release)) {
      p.load(in);
    } catch (IOException e) {
      return 0;
    }
    String version = p.getProperty("JAVA_VERSION", "").replace("\"", "");
    return feature(version);
  }

  private static int feature(String version) {
    if (version == null || version.isEmpty()) {
      return 0;
    }
    if (version.startsWith("1.")) {
      version = version.substring(2);
    }
    int end = 0;
    while (end < version.length() && Character.isDigit(version.charAt(end))) {
      end++;
    }
    return end == 0 ? 0 : Integer.parseInt(version.substring(0, end));
  }
}
