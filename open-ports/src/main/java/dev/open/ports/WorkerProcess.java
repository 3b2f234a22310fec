package dev.open.ports;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.ports.internal.protocol.Frame;
import dev.open.ports.internal.protocol.FrameCodec;
import dev.open.ports.internal.protocol.ProtocolException;
import dev.open.ports.internal.protocol.Values;

/**
 * One worker process and the host end of its protocol: a thread reading frames from its stdout
 * and completing the calls they answer, a thread turning its stderr into log lines (keeping the
 * last few for crash reports), and a lock around writes to its stdin.
 *
 * <p><b>Exact blame.</b> A worker runs its calls one at a time, in the order their frames were
 * written, so the oldest call it has not answered is the one running (from the host's point of
 * view; it may be about to start). The process holds its calls in that order. When it dies, that
 * call alone fails with the cause; every other call it held never started and goes back to the
 * pool, which sends it to another worker. A call whose frame was not completely written when the
 * worker died never reached it, and goes back too.
 *
 * <p><b>One death.</b> {@link #die} runs a single time, whatever noticed first: the end of its
 * stdout, a protocol error, any {@link Throwable} on its reader or stderr thread ({@code
 * OutOfMemoryError} included), a kill, or the process's exit when its stdout stays open (a child
 * process that inherited it). It blames the running call, hands the others back and tells the
 * pool, which starts a replacement.
 */
final class WorkerProcess {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerProcess.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int STDERR_TAIL = 20;
  /** Calls shorter than this on average (1 ms) are worth a deeper prefetch. */
  static final long SHORT_CALL_NANOS = 1_000_000;
  /** The longest stderr line kept; the rest of a longer one is dropped and counted. */
  static final int MAX_STDERR_LINE = 8 << 10;

  enum State { STARTING, READY, DRAINING, DEAD }

  /** What the pool learns from a worker. Called on the worker's threads; must not block. */
  interface Listener {
    /** {@code call} is now the worker's running call (the oldest it has not answered). */
    void onCallStarted(WorkerProcess worker, Call call);

    /** A call of the worker finished: it has room for another. */
    void onCallFinished(WorkerProcess worker);

    /** {@code call}, still running on the worker, has failed on the host: stop it there. */
    void onAbandoned(WorkerProcess worker, Call call);

    /**
     * The worker died; its running call (if it had one) has failed with {@code cause}.
     *
     * @param unstarted the calls it held that never started, in their order, to send elsewhere
     */
    void onDeath(WorkerProcess worker, WorkerCrashedException cause, List<Call> unstarted);
  }

  private final PoolConfig config;
  private final Listener listener;
  private final Process process;
  private final long pid;
  private final Logger stderrLog;
  private final OutputStream stdin;
  /** Orders frames on stdin; a lock rather than a monitor, so virtual threads never pin on it. */
  private final ReentrantLock writeLock = new ReentrantLock();
  private final byte[] writeScratch = new byte[64 << 10];
  /** Guards {@link #held}, {@link #byId}, {@link #ids}, {@link #writtenId}, {@link #closedToCalls}. */
  private final ReentrantLock callsLock = new ReentrantLock();
  /** The calls written (or being written) to the worker and not answered, in write order. */
  private final ArrayDeque<Call> held = new ArrayDeque<>();
  private final Map<Long, Call> byId = new HashMap<>();
  private long ids;
  /** The id of the last call whose frame was completely written. */
  private long writtenId;
  /** Whether the worker takes no more calls: it died, or its shutdown frame went out. */
  private boolean closedToCalls;
  /** Calls reserved for this worker by the pool and not finished (written or about to be). */
  private final AtomicInteger load = new AtomicInteger();
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private final CountDownLatch handshake = new CountDownLatch(1);
  private final AtomicBoolean dead = new AtomicBoolean();
  private final AtomicLong callsStarted = new AtomicLong();
  private final long startedNanos = System.nanoTime();
  private volatile State state = State.STARTING;
  private volatile ObjectNode hello;
  /** Whether the shutdown frame was written (guarded by writeLock): no call may follow it. */
  private boolean stopSent;
  /** The ping awaiting its pong, or null. */
  private volatile Ping ping;
  /** When the reader last received bytes or finished a frame: proof of life besides a pong. */
  private volatile long lastHeardNanos = System.nanoTime();
  /** When a write to the worker's stdin last returned: it is reading what the host sends. */
  private volatile long lastWrittenNanos = System.nanoTime();
  /** When the body of the frame being read began to arrive, or 0 between frames. */
  private volatile long frameStartedNanos;
  /** Bytes of frame bodies read so far, for the frame rate and for the size of each chunk. */
  private volatile long bodyBytes;
  private long frameStartBytes;
  /** When the reader began waiting for a lagging {@link CallStream} consumer, or 0. */
  private volatile long consumerWaitNanos;
  private volatile long rss = -1;
  private volatile WorkerCrashedException deathCause;
  private volatile long killedNanos;
  /** The call a kill was for, and what it fails with (guarded by callsLock), or null. */
  private Call blamed;
  private WorkerException blamedFailure;
  /** When the running call started (became the oldest the worker holds). */
  private volatile long runningSinceNanos;
  /** A moving average of how long the worker's calls run, or 0 before the first. */
  private volatile double meanCallNanos;

  private WorkerProcess(PoolConfig config, Listener listener, Process process) {
    this.config = config;
    this.listener = listener;
    this.process = process;
    this.pid = process.pid();
    this.stderrLog = LoggerFactory.getLogger("dev.open.ports.worker." + config.language.id());
    this.stdin = new BufferedOutputStream(new ProgressOutput(process.getOutputStream()), 1 << 16);
  }

  /**
   * Starts a worker process and its reader threads; {@link #awaitHello()} then waits for it to
   * greet. Two steps, so that the pool knows of a process before it is ready and can stop it.
   *
   * @throws WorkerStartException if the process cannot start
   */
  static WorkerProcess spawn(PoolConfig config, Listener listener, int number) {
    List<String> command = config.command();
    ProcessBuilder builder = new ProcessBuilder(command);
    if (config.workingDirectory != null) {
      builder.directory(config.workingDirectory.toFile());
    }
    builder.environment().putAll(config.environment());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new WorkerStartException(config.language.id(), 0, "cannot start a "
          + config.language.id() + " worker with " + command + ": " + e.getMessage(), e);
    }
    ChildProcesses.register(process);
    WorkerProcess worker = new WorkerProcess(config, listener, process);
    String name = "open-" + config.language.id() + "-" + number;
    Thread.ofPlatform().daemon().name(name + "-stderr").start(worker::pumpStderr);
    Thread.ofPlatform().daemon().name(name + "-reader").start(worker::readFrames);
    process.onExit().thenRun(worker::afterExit);
    return worker;
  }

  /**
   * The reader notices an exit by the end of stdout, unless a child process inherited it and
   * keeps it open: then the exit itself ends the worker, once the reader has had 2 s to read
   * what the worker wrote before it exited. While the reader waits for a lagging stream
   * consumer, it has frames still to read (answers that came before the exit): the check waits
   * with it.
   */
  private void afterExit() {
    CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(() -> {
      if (dead.get()) {
        return;
      }
      if (waitsForConsumer()) {
        afterExit();
        return;
      }
      LOG.warn("{} exited but its stdout stayed open (held by a child process?)", this);
      die(() -> crashed("exited", null));
    });
  }

  /**
   * Waits for the {@code hello} of a worker just spawned.
   *
   * @throws WorkerStartException if it dies, stays silent past the handshake timeout, or the
   *     waiting thread is interrupted; the process is then killed
   */
  void awaitHello() {
    boolean greeted;
    boolean interrupted = false;
    try {
      greeted = handshake.await(config.handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      interrupted = true;
      greeted = false;
    }
    if (greeted && hello != null && state != State.DEAD) {
      return;
    }
    WorkerCrashedException death = deathCause;
    kill("did not start");
    awaitExit();
    if (interrupted) {
      Thread.currentThread().interrupt(); // after awaitExit, which an interrupt would cut short
    }
    String why = death != null ? death.getMessage()
        : interrupted ? "was interrupted while waiting for its hello"
        : "sent no hello within " + config.handshakeTimeout;
    throw new WorkerStartException(config.language.id(), pid, "the " + config.language.id()
        + " worker started with " + config.command() + " failed to start: " + why
        + tail("; its stderr:"), death);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  private void readFrames() {
    InputStream in = new BufferedInputStream(process.getInputStream(), 1 << 16);
    InputStream body = new BodyInput(in);
    try {
      Frame frame;
      while (true) {
        awaitAnswer(in);
        if ((frame = FrameCodec.read(in, body, config.maxFrame)) == null) {
          break;
        }
        long frameBytes = bodyBytes - frameStartBytes;
        frameStartBytes = bodyBytes;
        frameStartedNanos = 0;
        lastHeardNanos = System.nanoTime();
        dispatch(frame, frameBytes);
      }
      boolean stopped = state == State.DEAD; // read before die() marks it dead
      die(() -> crashed(stopped ? "was stopped" : "exited", null));
    } catch (ProtocolException e) {
      process.destroyForcibly();
      die(() -> new WorkerProtocolException(config.language.id(), pid, e, tailLines()));
    } catch (Throwable e) { // an IOException, an OutOfMemoryError, a bug: the same death
      process.destroyForcibly();
      die(() -> crashed("could not be read (" + e + ")", e));
    } finally {
      handshake.countDown();
    }
  }

  /**
   * While one call is in flight, polls for its answer for up to the pool's spin time before the
   * blocking read: on virtual machines a thread blocked in the kernel sleeps on a halted virtual
   * CPU, and waking it costs tens of microseconds, more than a small call itself. With several
   * calls in flight answers keep coming, and spinning would only take CPU from the workers.
   */
  private void awaitAnswer(InputStream in) throws IOException {
    if (load.get() == 1) {
      pollWhileEmpty(in, () -> load.get() == 1);
    }
  }

  /** Polls {@code in} for up to the pool's spin time, while it is empty and {@code worthIt}. */
  private void pollWhileEmpty(InputStream in, java.util.function.BooleanSupplier worthIt)
      throws IOException {
    long spin = config.responseSpin.toNanos();
    if (spin == 0) {
      return;
    }
    long deadline = System.nanoTime() + spin;
    while (in.available() == 0 && System.nanoTime() < deadline && worthIt.getAsBoolean()) {
      Thread.onSpinWait();
    }
  }

  /**
   * Reads a frame body that has begun arriving, polling for each next piece before blocking: a
   * large body crosses the pipe in pieces of the pipe's capacity, and waking for every piece
   * would cost more than copying it. Every piece is proof that the worker lives, and counts
   * toward the frame's rate ({@link #frameTooSlow}).
   */
  private final class BodyInput extends java.io.FilterInputStream {
    BodyInput(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (frameStartedNanos == 0) {
        frameStartedNanos = System.nanoTime();
      }
      pollWhileEmpty(in, () -> true);
      int n = in.read(b, off, len);
      if (n > 0) {
        bodyBytes += n;
      }
      lastHeardNanos = System.nanoTime();
      return n;
    }
  }

  /**
   * Returns why the frame being read is overdue, or null: a frame must arrive at {@code
   * minRate} bytes per second on average, after a first {@code grace} (a worker writes a frame
   * whole, at the pipe's speed, so one that trickles or stalls mid-frame is hung, however alive
   * its trickle makes it look).
   */
  String frameTooSlow(Duration grace, long minRate) {
    long started = frameStartedNanos;
    if (started == 0) {
      return null;
    }
    long elapsed = System.nanoTime() - started;
    long received = bodyBytes - frameStartBytes;
    long allowed = grace.toNanos() + (long) (received * 1e9 / minRate);
    return elapsed <= allowed ? null : "it sent " + received + " bytes of a frame in "
        + Duration.ofNanos(elapsed).toMillis() + " ms, slower than " + minRate + " bytes/s";
  }

  /** Whether the reader has been waiting for a lagging stream consumer (not the worker's fault). */
  boolean waitsForConsumer() {
    return consumerWaitNanos != 0;
  }

  private void dispatch(Frame frame, long frameBytes) throws ProtocolException {
    String kind = frame.kind();
    if (hello == null) {
      if (!kind.equals("hello") || frame.badValue() != null) {
        throw new ProtocolException(ProtocolException.Code.UNKNOWN_KIND,
            "expected hello as the first frame, got " + kind);
      }
      int protocol = frame.header().path("protocol").asInt(-1);
      if (protocol != 1) {
        throw new ProtocolException(ProtocolException.Code.BAD_HEADER,
            "worker speaks protocol " + frame.header().get("protocol") + ", this host speaks 1");
      }
      if (config.segments != null && !capabilities(frame.header()).contains("shm")) {
        throw new ProtocolException(ProtocolException.Code.BAD_HEADER, "the worker was started "
            + "with --shm-dir but does not announce the shm capability: it is older than this "
            + "host; update it, or build the pool withSharedMemory(false)");
      }
      hello = frame.header();
      synchronized (this) {
        if (state == State.STARTING) {
          state = State.READY;
        }
      }
      handshake.countDown();
      return;
    }
    switch (kind) {
      case "result" -> {
        Call call = finishCall(frame.id());
        if (call == null) {
          discardSegments(frame);
        } else {
          Object value = decode(frame, call);
          answered(call, frame.header());
          if (value != DECODE_FAILED) {
            call.complete(value);
          }
          listener.onCallFinished(this);
        }
      }
      case "chunk" -> {
        Call call = heldCall(frame.id());
        if (call == null || call.isDone()) {
          discardSegments(frame);
        } else {
          Object value = decode(frame, call);
          if (value == DECODE_FAILED) {
            listener.onAbandoned(this, call);
            return;
          }
          consumerWaitNanos = call.isStream() ? System.nanoTime() : 0;
          boolean taken;
          try {
            taken = call.chunk(value, frameBytes);
          } finally {
            consumerWaitNanos = 0;
          }
          if (!taken) {
            listener.onAbandoned(this, call);
          }
        }
      }
      case "end" -> {
        Call call = finishCall(frame.id());
        if (call != null) {
          answered(call, frame.header());
          if (!call.isDone()) {
            call.end();
          }
          listener.onCallFinished(this);
        }
      }
      case "error" -> onError(frame.header());
      case "pong" -> {
        rss = frame.header().path("rss").asLong(-1);
        ping = null;
      }
      default -> throw new ProtocolException(ProtocolException.Code.UNKNOWN_KIND,
          "the worker sent a " + kind + " message, which only a host may send");
    }
  }

  /** The call the worker holds under {@code id}, or null. */
  private Call heldCall(long id) {
    callsLock.lock();
    try {
      return byId.get(id);
    } finally {
      callsLock.unlock();
    }
  }

  /**
   * Takes the call answered under {@code id} off the worker; if it was the running one, the next
   * it holds starts. Returns null for an id the worker does not hold (answered, or never sent).
   */
  private Call finishCall(long id) {
    Call call;
    Call next = null;
    boolean wasRunning;
    callsLock.lock();
    try {
      call = byId.remove(id);
      if (call == null) {
        return null;
      }
      wasRunning = held.peekFirst() == call;
      held.remove(call);
      if (wasRunning) {
        next = held.peekFirst();
      }
    } finally {
      callsLock.unlock();
    }
    load.decrementAndGet();
    if (wasRunning) {
      long now = System.nanoTime();
      double took = now - runningSinceNanos;
      double mean = meanCallNanos;
      meanCallNanos = mean == 0 ? took : 0.8 * mean + 0.2 * took;
      runningSinceNanos = now;
    }
    if (next != null) {
      listener.onCallStarted(this, next);
    }
    return call;
  }

  /**
   * Returns how many calls the worker should hold besides the running one: up to {@code max}
   * while its calls are short (under {@value #SHORT_CALL_NANOS} ns on average), when the host's
   * hand-off between two calls would leave it idle for as long as a call takes; at most one
   * when they are longer, where prefetching gains nothing and only makes calls wait behind a
   * slow one.
   */
  int prefetch(int max) {
    return meanCallNanos < SHORT_CALL_NANOS ? max : Math.min(max, 1);
  }

  private static final Object DECODE_FAILED = new Object();

  private static List<String> capabilities(ObjectNode hello) {
    List<String> names = new ArrayList<>();
    hello.path("capabilities").forEach(c -> names.add(c.asText()));
    return names;
  }

  /** Passes an answer's {@code kept} list to its call's segments (protocol section 8). */
  private static void answered(Call call, ObjectNode header) {
    if (call.segments != null) {
      call.segments.answered(header.get("kept"));
    }
  }

  /** Deletes the segments this worker wrote for an answer nobody takes (protocol section 8). */
  private void discardSegments(Frame frame) {
    if (config.segments != null) {
      config.segments.discard(frame.header().get("value"), pid);
    }
  }

  /** Decodes a frame's value; a malformed one fails only its call (protocol section 6). */
  private Object decode(Frame frame, Call call) {
    String problem = frame.badValue();
    if (problem == null) {
      try {
        return Values.decode(frame.header().get("value"), frame.buffers(),
            call.segments == null ? Values.NO_SEGMENTS : call.segments.resolver(pid));
      } catch (ProtocolException e) {
        problem = e.getMessage();
        discardSegments(frame);
      }
    }
    call.fail(new WorkerException(config.language.id(), pid, "the " + frame.kind() + " of "
        + call.function + " is malformed: " + problem, null));
    return DECODE_FAILED;
  }

  private void onError(ObjectNode header) {
    long id = header.path("id").asLong(0);
    String type = header.path("type").asText("Error");
    String message = header.path("message").asText("");
    if (id == 0) {
      // Not about a call: the worker reports a fatal problem and exits; die() follows at EOF.
      stderrLog.error("[{} worker {}] {}: {}", config.language.id(), pid, type, message);
      synchronized (stderrTail) {
        addTail(type + ": " + message);
      }
      return;
    }
    Call call = finishCall(id);
    if (call == null) {
      return;
    }
    answered(call, header);
    if (!call.isDone()) {
      if (type.equals("Cancelled")) {
        call.cancelledByWorker();
      } else {
        call.fail(new RemoteException(config.language.id(), pid, call.function, type, message,
            header.path("traceback").asText("")));
      }
    }
    listener.onCallFinished(this);
  }

  /**
   * Turns the worker's stderr into log lines, each cut at {@link #MAX_STDERR_LINE} bytes (the
   * rest of a longer line is dropped and counted), so that no output of a worker can fill the
   * host's memory. If this thread fails, nothing would drain stderr and the worker's next print
   * would block or break: the worker is killed instead, through the one death path.
   */
  private void pumpStderr() {
    try (InputStream err = process.getErrorStream()) {
      byte[] line = new byte[MAX_STDERR_LINE];
      byte[] chunk = new byte[8 << 10];
      int length = 0;
      long dropped = 0;
      int n;
      while ((n = err.read(chunk)) > 0) {
        for (int i = 0; i < n; i++) {
          byte b = chunk[i];
          if (b == '\n') {
            logStderr(line, length, dropped);
            length = 0;
            dropped = 0;
          } else if (length < line.length) {
            line[length++] = b;
          } else {
            dropped++;
          }
        }
      }
      if (length > 0 || dropped > 0) {
        logStderr(line, length, dropped);
      }
    } catch (Throwable e) {
      if (!dead.get() && process.isAlive()) {
        LOG.warn("the stderr of {} could not be read; killing it", this, e);
        killWith(crashed("was killed: its stderr could not be read (" + e + ")", e));
      }
    }
  }

  private void logStderr(byte[] bytes, int length, long dropped) {
    int end = length;
    if (length > 0 && bytes[length - 1] == '\r') {
      end--;
    }
    String line = new String(bytes, 0, end, StandardCharsets.UTF_8);
    if (dropped > 0) {
      line += " [... " + dropped + " more bytes of this line dropped]";
    }
    synchronized (stderrTail) {
      addTail(line);
    }
    if (config.stderrSink != null) {
      config.stderrSink.accept(line);
    }
    stderrLog.info("[{} worker {}] {}", config.language.id(), pid, line);
  }

  private void addTail(String line) {
    if (stderrTail.size() == STDERR_TAIL) {
      stderrTail.removeFirst();
    }
    stderrTail.addLast(line);
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  /**
   * Reserves room for a call if the worker takes calls and holds fewer than {@code capacity};
   * the pool calls this under its lock, then {@link #send}s the call.
   */
  boolean reserve(int capacity) {
    while (true) {
      int current = load.get();
      if (state != State.READY || current >= capacity) {
        return false;
      }
      if (load.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  /**
   * Sends a call reserved with {@link #reserve} (its header and buffers were encoded when it was
   * made). Calls are numbered and held in the order their frames are written, which is the order
   * the worker runs them.
   *
   * @return false if the worker took no more calls when its turn came (it died or was retired):
   *     the call never went out and the pool sends it elsewhere; true if it went out, or was
   *     cancelled before it could
   */
  boolean send(Call call) {
    if (call.isDone()) { // cancelled while it waited for room: the room is free again
      load.decrementAndGet();
      listener.onCallFinished(this);
      return true;
    }
    writeLock.lock();
    try {
      long id;
      boolean running;
      boolean cancelSent;
      callsLock.lock();
      try {
        if (closedToCalls || stopSent) {
          load.decrementAndGet();
          return false;
        }
        id = ++ids;
        call.attach(this, id);
        held.addLast(call);
        byId.put(id, call);
        running = held.size() == 1;
        // A cancel from now on finds the call attached and sends its own cancel frame; one that
        // came before did not, and this send must.
        cancelSent = !call.isDone();
      } finally {
        callsLock.unlock();
      }
      callsStarted.incrementAndGet();
      if (running) {
        runningSinceNanos = System.nanoTime();
        listener.onCallStarted(this, call);
      }
      try {
        FrameCodec.write(stdin, call.header, id, call.buffers, config.maxFrame, writeScratch);
        stdin.flush();
        callsLock.lock();
        try {
          writtenId = id;
        } finally {
          callsLock.unlock();
        }
      } catch (ProtocolException e) { // nothing written: the call fails, the worker is fine
        forget(call);
        call.fail(new IllegalArgumentException("cannot send the arguments of " + call.function
            + ": " + e.getMessage(), e));
        listener.onCallFinished(this);
      } catch (IOException e) {
        // The pipe broke: the process is dying; the call was not delivered, so die() hands it
        // back to the pool. No later call may be written after a frame cut short.
        closeToCalls();
        process.destroyForcibly();
      } catch (Throwable e) { // an OutOfMemoryError mid-frame: the stream is cut, the worker lost
        closeToCalls();
        killWith(crashed("was killed: a call could not be written to it (" + e + ")", e));
      }
      if (call.isDone() && !cancelSent) { // cancelled while the frame went out
        cancel(id);
      }
    } finally {
      writeLock.unlock();
    }
    return true;
  }

  private void closeToCalls() {
    callsLock.lock();
    try {
      closedToCalls = true;
    } finally {
      callsLock.unlock();
    }
  }

  /** Takes a call that never went out off the worker. */
  private void forget(Call call) {
    callsLock.lock();
    try {
      if (byId.remove(call.id()) == null) {
        return;
      }
      held.remove(call);
    } finally {
      callsLock.unlock();
    }
    load.decrementAndGet();
  }

  /**
   * Sends {@code cancel} for a call, from a virtual thread of its own: no caller (least of all
   * the reader, which may be what the worker waits for) ever blocks on a worker's full pipe.
   */
  void cancel(long id) {
    ObjectNode header = NODES.objectNode();
    header.put("kind", "cancel");
    header.put("id", id);
    Thread.ofVirtual().name("open-" + config.language.id() + "-cancel-" + pid)
        .start(() -> writeQuietly(header));
  }

  /** A ping: when the health check asked for it, and when it was written (0 until then). */
  private static final class Ping {
    final long requestedNanos = System.nanoTime();
    volatile long writtenNanos;
  }

  /**
   * Sends a ping unless one is outstanding, and returns how long the worker has been silent.
   *
   * <p>Silent means: since the outstanding ping was written, no pong and no byte of any other
   * frame arrived, so a pong queued behind a large answer does not make a busy worker look dead.
   * A ping not yet written waits behind a frame the host is sending; then the worker is silent
   * only if that frame has stopped moving too (a worker that stops reading blocks the host's
   * write once the pipe is full). The ping is written by a virtual thread of its own, so the
   * health check never blocks on a worker's full pipe.
   */
  Duration silence(long seq) {
    Ping outstanding = ping;
    if (outstanding == null) {
      Ping next = new Ping();
      ping = next;
      ObjectNode header = NODES.objectNode();
      header.put("kind", "ping");
      header.put("id", seq);
      Thread.ofVirtual().name("open-" + config.language.id() + "-ping-" + pid).start(() -> {
        writeQuietly(header);
        next.writtenNanos = System.nanoTime();
      });
      return Duration.ZERO;
    }
    long written = outstanding.writtenNanos;
    if (written == 0 && !writeLock.isLocked()) {
      return Duration.ZERO; // the ping's thread has not run yet: the JVM's delay, not the worker's
    }
    long life = written != 0 ? Math.max(written, lastHeardNanos)
        : Math.max(outstanding.requestedNanos, Math.max(lastWrittenNanos, lastHeardNanos));
    return Duration.ofNanos(Math.max(0, System.nanoTime() - life));
  }

  /**
   * Writes in pieces of at most 64 KiB and notes each one that returns: the worker's stdin pipe
   * is draining. (One large write would show no progress until all of it was in the pipe.)
   */
  private final class ProgressOutput extends java.io.FilterOutputStream {
    ProgressOutput(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int done = 0; done < len; ) {
        int n = Math.min(len - done, 1 << 16);
        out.write(b, off + done, n);
        done += n;
        lastWrittenNanos = System.nanoTime();
      }
    }
  }

  /**
   * Asks the worker to exit: a {@code shutdown} frame, then its stdin closed; calls in flight are
   * abandoned (the caller kills the worker if it does not exit). Asynchronous, on a virtual
   * thread, as a worker that has stopped reading would block the writer on a full pipe; killing
   * the worker ends that write too.
   */
  void shutdown() {
    stop(false);
  }

  /**
   * Like {@link #shutdown()}, but only once no call is in flight: for a draining worker, which a
   * call chosen just before the drain may still reach. If one did, the pool retires the worker
   * again when that call finishes.
   */
  void retire() {
    stop(true);
  }

  private void stop(boolean onlyIfIdle) {
    ObjectNode header = NODES.objectNode();
    header.put("kind", "shutdown");
    Thread.ofVirtual().name("open-" + config.language.id() + "-stop-" + pid).start(() -> {
      writeLock.lock();
      try {
        callsLock.lock();
        try {
          if (stopSent || (onlyIfIdle && load.get() > 0)) {
            return;
          }
          stopSent = true;
        } finally {
          callsLock.unlock();
        }
        write(header, List.of());
      } catch (IOException e) {
        // A dead pipe means a dying worker: the reader reports it.
      } finally {
        if (stopSent) {
          try {
            stdin.close();
          } catch (IOException e) {
            // already gone
          }
        }
        writeLock.unlock();
      }
    });
  }

  private void writeQuietly(ObjectNode header) {
    try {
      write(header, List.of());
    } catch (IOException e) {
      // A dead pipe means a dying worker: the reader reports it.
    }
  }

  private void write(ObjectNode header, List<ByteBuffer> buffers) throws IOException {
    writeLock.lock();
    try {
      FrameCodec.write(stdin, header, buffers, config.maxFrame, writeScratch);
      stdin.flush();
    } finally {
      writeLock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Death

  /**
   * Ends a worker that was killed but whose death nobody noticed (its process did not exit, or
   * its reader is stuck): the health check's last resort, so that no dead worker goes without a
   * replacement. Blocks for up to the few seconds that {@link #die} waits for an exit.
   */
  void forceDeath() {
    die(() -> crashed("was killed but did not exit", null));
  }

  /** Whether the worker was killed longer than {@code ago}, yet has not been through {@link #die}. */
  boolean killedButNotDead(Duration ago) {
    long killed = killedNanos;
    return killed != 0 && !dead.get() && System.nanoTime() - killed > ago.toNanos();
  }

  /**
   * Kills the worker for its running call, if {@code call} is still that call: a timeout or an
   * unanswered cancel. Decided under the calls' lock, so that a call which finished meanwhile
   * is not blamed, nor the one that started after it; that call then fails with {@code
   * callFailure} (or the death's cause when null).
   *
   * @return whether the worker was killed
   */
  boolean killIfRunning(Call call, WorkerException callFailure, WorkerCrashedException cause) {
    callsLock.lock();
    try {
      if (closedToCalls || held.peekFirst() != call) {
        return false;
      }
      blamed = call;
      blamedFailure = callFailure;
    } finally {
      callsLock.unlock();
    }
    killWith(cause);
    return true;
  }

  /** Kills the process; its running call fails with "was killed: reason". */
  void kill(String reason) {
    killWith(crashed("was killed: " + reason, null));
  }

  /** Kills the process; calls in flight fail with {@code cause}. */
  void killWith(WorkerCrashedException cause) {
    if (deathCause == null) {
      deathCause = cause;
    }
    if (killedNanos == 0) {
      killedNanos = System.nanoTime();
    }
    markDead();
    process.destroyForcibly();
  }

  /**
   * Fails the running call, hands the others back and tells the pool; {@code observed} is built
   * after the exit. Runs once.
   */
  private void die(Supplier<WorkerCrashedException> observed) {
    if (!dead.compareAndSet(false, true)) {
      return;
    }
    markDead();
    awaitExit();
    WorkerCrashedException cause = deathCause != null ? deathCause : observed.get();
    deathCause = cause;
    Call running = null;
    WorkerException runningFailure = cause;
    List<Call> unstarted = new ArrayList<>();
    callsLock.lock();
    try {
      closedToCalls = true;
      Call first = held.peekFirst();
      if (blamed != null) { // killed for one call: that one, if the worker still holds it
        running = first == blamed ? blamed : null;
        if (blamedFailure != null) {
          runningFailure = blamedFailure;
        }
      } else if (first != null && first.id() <= writtenId) {
        running = first; // delivered: it ran, or was about to
      }
      for (Call call : held) {
        if (call != running) {
          unstarted.add(call);
        }
      }
      held.clear();
      byId.clear();
    } finally {
      callsLock.unlock();
    }
    load.addAndGet(-(unstarted.size() + (running != null ? 1 : 0)));
    unstarted.forEach(Call::detach);
    ChildProcesses.unregister(process);
    listener.onDeath(this, cause, unstarted); // the others go elsewhere first: callbacks of the
    if (running != null) {                    // failed call's future may take their time
      running.fail(runningFailure);
    }
  }

  /** Waits briefly for the process to end, so that its exit status is known. */
  private void awaitExit() {
    try {
      if (!process.waitFor(2, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private WorkerCrashedException crashed(String reason, Throwable cause) {
    Integer exit = process.isAlive() ? null : process.exitValue();
    return new WorkerCrashedException(config.language.id(), pid, reason, exit, tailLines(),
        cause);
  }

  // ---------------------------------------------------------------------------------------------
  // State

  long pid() {
    return pid;
  }

  State state() {
    return state;
  }

  /** Stops the worker taking calls, if it takes them; returns whether this call did that. */
  synchronized boolean drain() {
    if (state == State.READY) {
      state = State.DRAINING;
      return true;
    }
    return false;
  }

  private synchronized void markDead() {
    state = State.DEAD;
  }

  /** Returns how many calls the worker holds or is about to be sent. */
  int inFlight() {
    return load.get();
  }

  /** Returns the call the worker runs (the oldest it holds), or null. */
  Call running() {
    callsLock.lock();
    try {
      return held.peekFirst();
    } finally {
      callsLock.unlock();
    }
  }

  String language() {
    return config.language.id();
  }

  long callsStarted() {
    return callsStarted.get();
  }

  long rss() {
    return rss;
  }

  Duration age() {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  ObjectNode hello() {
    return hello;
  }

  Process process() {
    return process;
  }

  /** Whether the worker holds {@code call} (sent and not answered). */
  boolean owns(Call call) {
    callsLock.lock();
    try {
      return byId.get(call.id()) == call;
    } finally {
      callsLock.unlock();
    }
  }

  List<String> tailLines() {
    synchronized (stderrTail) {
      return List.copyOf(stderrTail);
    }
  }

  private String tail(String prefix) {
    List<String> lines = tailLines();
    return lines.isEmpty() ? "" : prefix + "\n  " + String.join("\n  ", lines);
  }

  @Override
  public String toString() {
    return config.language.id() + " worker " + pid + " (" + state + ", " + load.get()
        + " in flight)";
  }
}
