package dev.open.ports.internal.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Finds the {@code kind} and {@code id} of a header that the JSON parser refused because of a
 * value limit (a number of 5,000 digits, nesting 600 deep): a single pass over the text that
 * looks only at the top-level object's keys, skips every nested value and string without
 * building anything, and so costs no memory however large or deep the header is.
 *
 * <p>It answers only when the top level is unambiguous: an object whose {@code kind} is a plain
 * string and whose {@code id}, if present, a plain non-negative integer, each given once. Any
 * other shape, including malformed JSON, gives null: the frame is then malformed as a whole.
 */
final class HeaderScan {
  /** What the scan found: the kind, and the id or 0 when there is none. */
  record Found(String kind, long id) {}

  private static final int NAME_LIMIT = 16;

  private final byte[] text;
  private final int end;
  private int at;

  private HeaderScan(byte[] text, int from, int length) {
    this.text = text;
    this.at = from;
    this.end = from + length;
  }

  /**
   * Scans {@code length} bytes of {@code text} from {@code from}.
   *
   * @return the kind and id, or null when the top level is not an object with a string kind
   */
  static Found scan(byte[] text, int from, int length) {
    try {
      return new HeaderScan(text, from, length).object();
    } catch (Malformed e) {
      return null;
    }
  }

  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;
    static final Malformed INSTANCE = new Malformed();

    private Malformed() {
      super(null, null, false, false);
    }
  }

  private Found object() throws Malformed {
    expect('{');
    String kind = null;
    boolean kindSeen = false;
    long id = -1;
    skipSpace();
    if (peek() == '}') {
      at++;
    } else {
      while (true) {
        String key = string(true);
        expect(':');
        skipSpace();
        if ("kind".equals(key)) {
          if (kindSeen || peek() != '"') {
            throw Malformed.INSTANCE;
          }
          kindSeen = true;
          kind = string(true);
        } else if ("id".equals(key)) {
          if (id >= 0) {
            throw Malformed.INSTANCE;
          }
          id = integer();
        } else {
          skipValue();
        }
        skipSpace();
        byte b = next();
        if (b == '}') {
          break;
        }
        if (b != ',') {
          throw Malformed.INSTANCE;
        }
      }
    }
    skipSpace();
    if (at != end || kind == null) {
      throw Malformed.INSTANCE;
    }
    return new Found(kind, Math.max(id, 0));
  }

  /**
   * Reads a string; returns its text when {@code keep} and it is short and has no escapes (the
   * only keys and kinds of interest), else null.
   */
  private String string(boolean keep) throws Malformed {
    expect('"');
    int start = at;
    boolean plain = true;
    while (true) {
      byte b = next();
      if (b == '"') {
        break;
      }
      if (b == '\\') {
        plain = false;
        next();
      }
    }
    int length = at - 1 - start;
    return keep && plain && length <= NAME_LIMIT
        ? new String(text, start, length, StandardCharsets.UTF_8) : null;
  }

  private long integer() throws Malformed {
    long value = 0;
    int digits = 0;
    while (at < end && text[at] >= '0' && text[at] <= '9') {
      if (++digits > 18) {
        throw Malformed.INSTANCE;
      }
      value = value * 10 + (text[at++] - '0');
    }
    if (digits == 0) {
      throw Malformed.INSTANCE;
    }
    return value;
  }

  /** Skips one value of any depth, counting brackets rather than recursing. */
  private void skipValue() throws Malformed {
    int depth = 0;
    do {
      skipSpace();
      byte b = peek();
      switch (b) {
        case '"' -> string(false);
        case '{', '[' -> {
          depth++;
          at++;
        }
        case '}', ']' -> {
          if (depth == 0) {
            throw Malformed.INSTANCE;
          }
          depth--;
          at++;
        }
        case ',', ':' -> {
          if (depth == 0) {
            throw Malformed.INSTANCE;
          }
          at++;
        }
        default -> { // a number, true, false or null: up to the next delimiter
          int start = at;
          while (at < end && !delimiter(text[at])) {
            at++;
          }
          if (at == start) {
            throw Malformed.INSTANCE;
          }
        }
      }
    } while (depth > 0);
  }

  private static boolean delimiter(byte b) {
    return b == ',' || b == ':' || b == '}' || b == ']' || b == '"' || b == '{' || b == '['
        || b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  private void skipSpace() {
    while (at < end && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n'
        || text[at] == '\r')) {
      at++;
    }
  }

  private void expect(char c) throws Malformed {
    skipSpace();
    if (next() != c) {
      throw Malformed.INSTANCE;
    }
  }

  private byte peek() throws Malformed {
    if (at >= end) {
      throw Malformed.INSTANCE;
    }
    return text[at];
  }

  private byte next() throws Malformed {
    if (at >= end) {
      throw Malformed.INSTANCE;
    }
    return text[at++];
  }
}
