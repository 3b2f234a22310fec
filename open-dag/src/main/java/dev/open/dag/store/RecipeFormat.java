package dev.open.dag.store;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The format of a recipe file (see {@link DirectoryStore}): the magic {@code OPENRCP1}, the
 * recipe's strings (DAG, DAG version, node, node version, code), the number of inputs and each
 * input's name and content hash, every string as a 4-byte big-endian length and its UTF-8
 * bytes, then the CRC32C of all of that.
 */
final class RecipeFormat {
  static final byte[] MAGIC = "OPENRCP1".getBytes(StandardCharsets.US_ASCII);

  /** The largest recipe file a reader accepts. */
  static final int MAX_SIZE = 16 << 20;

  private RecipeFormat() {}

  /** Returns the name of the recipe file of ({@code dag}, {@code node}). */
  static String fileName(String dag, String node) {
    return HexFormat.of().formatHex(KeyRecipe.sha256().digest(
        (dag + '\0' + node).getBytes(StandardCharsets.UTF_8)));
  }

  /** Encodes {@code recipe} (a heap buffer, position 0). */
  static ByteBuffer encode(KeyRecipe recipe) {
    List<String> strings = new java.util.ArrayList<>();
    strings.add(recipe.dag());
    strings.add(recipe.dagVersion());
    strings.add(recipe.node());
    strings.add(recipe.nodeVersion());
    strings.add(recipe.code());
    recipe.inputs().forEach((name, hash) -> {
      strings.add(name);
      strings.add(hash);
    });
    List<byte[]> encoded = strings.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    long size = MAGIC.length + 4L + 4L * encoded.size() + 4;
    for (byte[] bytes : encoded) {
      size += bytes.length;
    }
    if (size > MAX_SIZE) {
      throw new IllegalArgumentException("recipe of " + recipe.dag() + "/" + recipe.node()
          + " takes " + size + " bytes, more than a stored recipe's " + MAX_SIZE);
    }
    ByteBuffer out = ByteBuffer.allocate((int) size).put(MAGIC);
    for (int i = 0; i < encoded.size(); i++) {
      if (i == 5) {
        out.putInt(recipe.inputs().size());
      }
      out.putInt(encoded.get(i).length).put(encoded.get(i));
    }
    if (encoded.size() == 5) {
      out.putInt(0);
    }
    CRC32C crc = new CRC32C();
    crc.update(out.array(), 0, out.position());
    return out.putInt((int) crc.getValue()).flip();
  }

  /**
   * Decodes a recipe file's bytes, checking its magic, its checksum and every length against the
   * bytes there are.
   */
  static KeyRecipe decode(byte[] file) throws EntryFormat.Corrupt {
    if (file.length < MAGIC.length + 4 + 4) {
      throw new EntryFormat.Corrupt("truncated: " + file.length + " bytes");
    }
    ByteBuffer in = ByteBuffer.wrap(file);
    if (!in.slice(0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
      throw new EntryFormat.Corrupt("not a recipe file (bad magic)");
    }
    CRC32C crc = new CRC32C();
    crc.update(file, 0, file.length - 4);
    int stored = in.getInt(file.length - 4);
    if (stored != (int) crc.getValue()) {
      throw new EntryFormat.Corrupt(String.format(
          "its checksum does not match (stored CRC32C %08x, computed %08x): damaged", stored,
          (int) crc.getValue()));
    }
    in.position(MAGIC.length).limit(file.length - 4);
    try {
      String dag = string(in);
      String dagVersion = string(in);
      String node = string(in);
      String nodeVersion = string(in);
      String code = string(in);
      int count = in.getInt();
      if (count < 0 || count > in.remaining() / 8) {
        throw new EntryFormat.Corrupt("its input count " + count + " does not fit the file");
      }
      Map<String, String> inputs = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        inputs.put(string(in), string(in));
      }
      if (in.hasRemaining()) {
        throw new EntryFormat.Corrupt(in.remaining() + " bytes follow the recipe");
      }
      return new KeyRecipe(dag, dagVersion, node, nodeVersion, code, inputs);
    } catch (BufferUnderflowException e) {
      throw new EntryFormat.Corrupt("truncated inside a field");
    }
  }

  private static String string(ByteBuffer in) throws EntryFormat.Corrupt {
    int length = in.getInt();
    if (length < 0 || length > in.remaining()) {
      throw new EntryFormat.Corrupt("a field's length " + length + " does not fit the file");
    }
    String s = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
    in.position(in.position() + length);
    return s;
  }
}
