package dev.open.report;

/** Just enough JSON writing for the report's data: strings, numbers, arrays, objects. */
final class Json {
  private final StringBuilder out;
  private boolean comma;

  Json(int capacity) {
    this.out = new StringBuilder(capacity);
  }

  Json open() {
    sep();
    out.append('{');
    comma = false;
    return this;
  }

  Json close() {
    out.append('}');
    comma = true;
    return this;
  }

  Json openArray() {
    sep();
    out.append('[');
    comma = false;
    return this;
  }

  Json closeArray() {
    out.append(']');
    comma = true;
    return this;
  }

  Json key(String key) {
    sep();
    string(out, key);
    out.append(':');
    comma = false;
    return this;
  }

  Json value(String s) {
    sep();
    if (s == null) {
      out.append("null");
    } else {
      string(out, s);
    }
    comma = true;
    return this;
  }

  Json value(long n) {
    sep();
    out.append(n);
    comma = true;
    return this;
  }

  Json value(double d) {
    sep();
    if (Double.isFinite(d)) {
      out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d)
          : Double.toString(d));
    } else {
      out.append("null");
    }
    comma = true;
    return this;
  }

  Json value(boolean b) {
    sep();
    out.append(b);
    comma = true;
    return this;
  }

  Json array(int[] values) {
    openArray();
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(values[i]);
    }
    return closeArray();
  }

  Json array(long[] values) {
    openArray();
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(values[i]);
    }
    return closeArray();
  }

  Json array(String[] values) {
    openArray();
    for (String v : values) {
      value(v);
    }
    return closeArray();
  }

  private void sep() {
    if (comma) {
      out.append(',');
    }
  }

  /**
   * Appends {@code s} as a JSON string that is also safe inside an HTML {@code <script>}
   * element: {@code <}, {@code >} and {@code &} are escaped, so no {@code </script>} can close it.
   */
  static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '<', '>', '&', '\u2028', '\u2029' -> out.append(String.format("\\u%04x", (int) c));
        default -> {
          if (Character.isSurrogate(c)) {
            // a pair as it is; half of one escaped, since UTF-8 cannot encode it
            boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
            if (paired) {
              out.append(c).append(s.charAt(++i));
            } else {
              out.append(String.format("\\u%04x", (int) c));
            }
          } else if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
