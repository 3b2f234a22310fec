package dev.open.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.open.dag.array.NDArray;
import dev.open.ports.WorkerPool;
import dev.open.rust.RustKernels;

/**
 * An array a Python task returns in shared memory goes to a Rust kernel without a copy: the
 * kernel reads the segment in place, and what it writes into one lands in the segment's file.
 */
class SharedArraysWithRustTest {
  private static final Path REPO = Path.of(System.getProperty("open.repo", "..")).toAbsolutePath();
  private WorkerPool python;

  @BeforeEach
  void start() {
    assumeThat(Files.isDirectory(Path.of("/dev/shm"))).as("/dev/shm exists (Linux)").isTrue();
    python = WorkerPool.python()
        .withInterpreter(System.getProperty("open.python", "python3"))
        .withModulePath(REPO.resolve("python-worker/test_tasks"))
        .withAllowedModules("open_test_tasks")
        .withWorkers(1)
        .withSharedMemoryThreshold(1024)
        .build();
  }

  @AfterEach
  void stop() {
    python.close();
  }

  @Test
  void aRustKernelReadsAndWritesAPythonResultInItsSegment() throws Exception {
    RustKernels rust = RustKernels.load();
    double[] ones = new double[64 * 64];
    Arrays.fill(ones, 1.0);
    NDArray a = (NDArray) python.call("open_test_tasks:array_double", NDArray.of(ones, 64, 64))
        .join();
    NDArray c = (NDArray) python.call("open_test_tasks:array_double", NDArray.of(ones, 64, 64))
        .join();
    assertThat(a.isDirect()).isTrue();
    assertThat(rust.sum(a)).isEqualTo(2.0 * 64 * 64);

    NDArray identity = NDArray.of(new double[64 * 64], 64, 64);
    for (int i = 0; i < 64; i++) {
      identity.asDoubleBuffer().put(i * 64 + i, 0.25);
    }
    rust.matmul(a, identity, c); // c = a · ¼I: every element 0.5, written by the kernel
    assertThat(c.toDoubleArray()).containsOnly(0.5);
    // The kernel wrote into the segment itself: its file, read apart from any mapping, says so.
    assertThat(segmentsHolding(c.toByteArray())).hasSize(1);
  }

  private List<Path> segmentsHolding(byte[] content) throws IOException {
    try (Stream<Path> files = Files.list(python.sharedMemoryDirectory().orElseThrow())) {
      return files.filter(f -> {
        try {
          byte[] bytes = Files.readAllBytes(f);
          return bytes.length >= content.length
              && Arrays.equals(Arrays.copyOf(bytes, content.length), content);
        } catch (IOException e) {
          return false;
        }
      }).toList();
    }
  }
}
