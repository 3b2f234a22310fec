package dev.open.dag.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The format of an entry file (see {@link DirectoryStore} for the layout): encoding a header and
 * trailer, and reading an entry back while checking everything before trusting it. Every length
 * read from a file is checked against the file's actual size before anything is allocated, so a
 * damaged header cannot make a reader allocate more than the file holds.
 */
final class EntryFormat {
  static final byte[] MAGIC = "OPENENT1".getBytes(StandardCharsets.US_ASCII);

  /** Magic 8, header length 4, key 32, content hash 32, payload length 8, codec id length 2. */
  static final int FIXED_HEADER = 86;

  /** The CRC32C after the payload. */
  static final int TRAILER = 4;

  /** The longest header a reader accepts (the fixed part, the codec id and later extensions). */
  static final int MAX_HEADER = 64 * 1024;

  /** The longest codec id, in UTF-8 bytes. */
  static final int MAX_CODEC_ID = 1024;

  /** The largest payload: one direct buffer holds it. */
  static final long MAX_PAYLOAD = Integer.MAX_VALUE;

  private static final int KEY_AT = 12;
  private static final int HASH_AT = 44;
  private static final int PAYLOAD_LENGTH_AT = 76;
  private static final int CODEC_LENGTH_AT = 84;

  /** A file that is not a whole, intact entry, and why. */
  static final class Corrupt extends Exception {
    private static final long serialVersionUID = 1L;

    Corrupt(String reason) {
      super(reason, null, false, false);
    }
  }

  /** A checked header: what it says and its bytes (the start of the checksummed range). */
  record Header(CacheKey key, String contentHash, String codec, int length, long payloadLength,
      ByteBuffer bytes) {}

  private EntryFormat() {}

  /** Returns the header of an entry (a heap buffer, position 0). */
  static ByteBuffer header(CacheKey key, byte[] contentHash, byte[] codec, long payloadLength) {
    // Zero-padded to a multiple of 64 bytes (readers skip what follows the codec id), so that a
    // payload mapped from the file starts aligned: an array's elements are then aligned too.
    int length = (FIXED_HEADER + codec.length + PAYLOAD_ALIGNMENT - 1)
        / PAYLOAD_ALIGNMENT * PAYLOAD_ALIGNMENT;
    ByteBuffer header = ByteBuffer.allocate(length);
    header.put(MAGIC).putInt(length).put(HexFormat.of().parseHex(key.hex()))
        .put(contentHash).putLong(payloadLength).putShort((short) codec.length).put(codec);
    return header.clear();
  }

  /** Where a payload starts in an entry file: a multiple of this. */
  static final int PAYLOAD_ALIGNMENT = 64;

  /** Returns the CRC32C of the header and the parts (positions are left as they were). */
  static int checksum(ByteBuffer header, List<ByteBuffer> parts) {
    CRC32C crc = new CRC32C();
    crc.update(header.duplicate());
    for (ByteBuffer part : parts) {
      crc.update(part.duplicate());
    }
    return (int) crc.getValue();
  }

  /**
   * Reads and checks the header of the entry file open on {@code channel}, whose size is {@code
   * size}: its magic, and that its header, payload and checksum lengths add up to the size
   * exactly. Allocates at most the header's length, itself at most {@link #MAX_HEADER}.
   */
  static Header readHeader(FileChannel channel, long size) throws IOException, Corrupt {
    if (size < FIXED_HEADER + TRAILER) {
      throw new Corrupt("truncated: the file has " + size + " bytes, fewer than any entry's "
          + (FIXED_HEADER + TRAILER));
    }
    ByteBuffer fixed = ByteBuffer.allocate(FIXED_HEADER);
    if (!StoreFiles.readFully(channel, fixed, 0)) {
      throw new Corrupt("truncated while its header was read");
    }
    if (!fixed.slice(0, MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
      throw new Corrupt("not an entry file: it starts with "
          + HexFormat.of().formatHex(fixed.array(), 0, MAGIC.length) + ", not the magic "
          + new String(MAGIC, StandardCharsets.US_ASCII));
    }
    int length = fixed.getInt(MAGIC.length);
    if (length < FIXED_HEADER || length > MAX_HEADER || length > size - TRAILER) {
      throw new Corrupt("its header length " + length + " does not fit a file of " + size
          + " bytes: truncated or damaged");
    }
    long payloadLength = fixed.getLong(PAYLOAD_LENGTH_AT);
    if (payloadLength != size - length - TRAILER) {
      throw new Corrupt("its payload length " + payloadLength + " does not match the file's "
          + size + " bytes (" + length + " of header, " + TRAILER
          + " of checksum): truncated or damaged");
    }
    if (payloadLength > MAX_PAYLOAD) {
      throw new Corrupt("its payload of " + payloadLength + " bytes is larger than an entry's "
          + MAX_PAYLOAD);
    }
    int codecLength = Short.toUnsignedInt(fixed.getShort(CODEC_LENGTH_AT));
    if (codecLength == 0 || codecLength > length - FIXED_HEADER) {
      throw new Corrupt("its codec id length " + codecLength + " does not fit its header of "
          + length + " bytes");
    }
    ByteBuffer bytes = ByteBuffer.allocate(length).put(fixed.flip());
    if (!StoreFiles.readFully(channel, bytes, FIXED_HEADER)) {
      throw new Corrupt("truncated while its header was read");
    }
    bytes.flip();
    byte[] raw = bytes.array();
    // What follows the codec id in the header (nothing, in format 1) is an extension a format-1
    // reader skips; the checksum covers it.
    return new Header(
        CacheKey.of(java.util.Arrays.copyOfRange(raw, KEY_AT, KEY_AT + 32)),
        HexFormat.of().formatHex(raw, HASH_AT, HASH_AT + 32),
        new String(raw, FIXED_HEADER, codecLength, StandardCharsets.UTF_8),
        length, payloadLength, bytes);
  }

  /**
   * Reads and checks the rest of the entry file open on {@code channel}, whose checked header is
   * {@code header} and which should hold {@code key}'s entry, and returns its payload, position 0,
   * limit its length: a payload of at least {@code mapThreshold} bytes is mapped copy-on-write
   * (the channel must be open for reading and writing; nothing is ever written back), a smaller
   * one read into one direct buffer of its length (at most the file's size).
   */
  static ByteBuffer readPayload(FileChannel channel, CacheKey key, Header header,
      long mapThreshold) throws IOException, Corrupt {
    ByteBuffer trailer = ByteBuffer.allocate(TRAILER);
    if (!StoreFiles.readFully(channel, trailer, header.length() + header.payloadLength())) {
      throw new Corrupt("truncated while its checksum was read");
    }
    ByteBuffer payload;
    int computed;
    if (header.payloadLength() >= mapThreshold) {
      payload = channel.map(FileChannel.MapMode.PRIVATE, header.length(),
          header.payloadLength());
      computed = checksumOfMapping(header.bytes(), payload);
    } else {
      payload = ByteBuffer.allocateDirect((int) header.payloadLength());
      if (!StoreFiles.readFully(channel, payload, header.length())) {
        throw new Corrupt("truncated while its payload was read");
      }
      payload.flip();
      computed = checksum(header.bytes(), List.of(payload));
    }
    checkSum(trailer.getInt(0), computed);
    checkKey(header, key);
    return payload;
  }

  /**
   * Returns the CRC32C of {@code header} and the mapped {@code payload}, read through a small heap
   * array: the JVM turns a fault in a mapping (its file truncated meanwhile by another program)
   * into an {@link InternalError} in a bulk copy, but not inside the checksum's own intrinsic.
   */
  private static int checksumOfMapping(ByteBuffer header, ByteBuffer payload) throws Corrupt {
    CRC32C crc = new CRC32C();
    crc.update(header.duplicate());
    byte[] piece = new byte[64 * 1024];
    ByteBuffer mapped = payload.duplicate();
    try {
      while (mapped.hasRemaining()) {
        int n = Math.min(piece.length, mapped.remaining());
        mapped.get(piece, 0, n);
        crc.update(piece, 0, n);
      }
    } catch (InternalError e) {
      throw new Corrupt("truncated while it was checked (" + e.getMessage() + ")");
    }
    return (int) crc.getValue();
  }

  /**
   * Checks the whole entry file open on {@code channel} as {@link #readPayload} does, but reads
   * its payload in small pieces instead of into one buffer.
   */
  static void verify(FileChannel channel, long size, CacheKey key) throws IOException, Corrupt {
    Header header = readHeader(channel, size);
    CRC32C crc = new CRC32C();
    crc.update(header.bytes().duplicate());
    ByteBuffer piece = ByteBuffer.allocateDirect(256 * 1024);
    long at = header.length();
    long end = at + header.payloadLength();
    while (at < end) {
      piece.clear().limit((int) Math.min(piece.capacity(), end - at));
      if (!StoreFiles.readFully(channel, piece, at)) {
        throw new Corrupt("truncated while its payload was read");
      }
      crc.update(piece.flip());
      at += piece.limit();
    }
    ByteBuffer trailer = ByteBuffer.allocate(TRAILER);
    if (!StoreFiles.readFully(channel, trailer, end)) {
      throw new Corrupt("truncated while its checksum was read");
    }
    checkSum(trailer.getInt(0), (int) crc.getValue());
    checkKey(header, key);
  }

  private static void checkSum(int stored, int computed) throws Corrupt {
    if (stored != computed) {
      throw new Corrupt(String.format(
          "its checksum does not match (stored CRC32C %08x, computed %08x): damaged", stored,
          computed));
    }
  }

  private static void checkKey(Header header, CacheKey key) throws Corrupt {
    if (!header.key().equals(key)) {
      throw new Corrupt("it holds the entry of key " + header.key().shortHex()
          + ", not of its file name");
    }
  }
}
