package dev.open.bench.wfcommons;

import java.nio.file.Path;

/** A WfFormat file that cannot be replayed: unreadable, malformed or cyclic. Names the file. */
public final class WfFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  WfFormatException(Path file, String problem) {
    super(file + ": " + problem);
  }

  WfFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
  }
}
