package dev.open.ports;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.open.ports.protocol.Frame;
import dev.open.ports.protocol.FrameCodec;
import dev.open.ports.protocol.ProtocolException;
import dev.open.ports.protocol.Values;

/**
 * One worker process and the host end of its protocol: a thread reading frames from its stdout
 * and completing the calls they answer, a thread turning its stderr into log lines (keeping the
 * last few for crash reports), and a lock around writes to its stdin.
 *
 * <p>The process dies once: {@link #die} runs a single time, whatever noticed first (end of its
 * stdout, a protocol error, a kill), fails every call in flight with the same typed exception and
 * tells the pool.
 */
final class WorkerProcess {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int STDERR_TAIL = 20;

  enum State { STARTING, READY, DRAINING, DEAD }

  /** What the pool learns from a worker. */
  interface Listener {
    void onCallFinished(WorkerProcess worker);

    void onDeath(WorkerProcess worker, WorkerCrashedException cause);
  }

  private final WorkerPool.Config config;
  private final Listener listener;
  private final Process process;
  private final long pid;
  private final Logger stderrLog;
  private final OutputStream stdin;
  /** Orders frames on stdin; a lock rather than a monitor, so virtual threads never pin on it. */
  private final ReentrantLock writeLock = new ReentrantLock();
  private final byte[] writeScratch = new byte[64 << 10];
  private final Map<Long, Call> calls = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
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
  private volatile long rss = -1;
  private volatile WorkerCrashedException deathCause;

  private WorkerProcess(WorkerPool.Config config, Listener listener, Process process) {
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
  static WorkerProcess spawn(WorkerPool.Config config, Listener listener, int number) {
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
    return worker;
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
        lastHeardNanos = System.nanoTime();
        dispatch(frame);
      }
      boolean stopped = state == State.DEAD; // read before die() marks it dead
      die(() -> crashed(stopped ? "was stopped" : "exited", null));
    } catch (ProtocolException e) {
      process.destroyForcibly();
      die(() -> new WorkerProtocolException(config.language.id(), pid, e, tailLines()));
    } catch (IOException | RuntimeException e) {
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
    if (calls.size() == 1) {
      pollWhileEmpty(in, () -> calls.size() == 1);
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
   * would cost more than copying it. Every piece is proof that the worker lives.
   */
  private final class BodyInput extends java.io.FilterInputStream {
    BodyInput(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      pollWhileEmpty(in, () -> true);
      int n = in.read(b, off, len);
      lastHeardNanos = System.nanoTime();
      return n;
    }
  }

  private void dispatch(Frame frame) throws ProtocolException {
    String kind = frame.kind();
    if (hello == null) {
      if (!kind.equals("hello")) {
        throw new ProtocolException(ProtocolException.Code.UNKNOWN_KIND,
            "expected hello as the first frame, got " + kind);
      }
      int protocol = frame.header().path("protocol").asInt(-1);
      if (protocol != 1) {
        throw new ProtocolException(ProtocolException.Code.BAD_HEADER,
            "worker speaks protocol " + frame.header().get("protocol") + ", this host speaks 1");
      }
      hello = frame.header();
      state = State.READY;
      handshake.countDown();
      return;
    }
    switch (kind) {
      case "result" -> {
        Call call = calls.remove(frame.id());
        if (call != null) {
          finish(call, () -> call.complete(decode(frame, frame.header().get("value"), call)));
        }
      }
      case "chunk" -> {
        Call call = calls.get(frame.id());
        if (call != null) {
          Object value = decode(frame, frame.header().get("value"), call);
          if (value != DECODE_FAILED) {
            call.chunk(value);
          }
        }
      }
      case "end" -> {
        Call call = calls.remove(frame.id());
        if (call != null) {
          finish(call, call::end);
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

  private static final Object DECODE_FAILED = new Object();

  /** Decodes a value; a malformed one fails only its call (protocol section 6). */
  private Object decode(Frame frame, JsonNode value, Call call) {
    try {
      return Values.decode(value, frame.buffers());
    } catch (ProtocolException e) {
      calls.remove(frame.id());
      call.fail(new WorkerException(config.language.id(), pid, "the result of " + call.function
          + " is malformed: " + e.getMessage(), e));
      return DECODE_FAILED;
    }
  }

  private void finish(Call call, Runnable completion) {
    if (!call.isDone()) {
      completion.run();
    }
    listener.onCallFinished(this);
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
    Call call = calls.remove(id);
    if (call == null) {
      return;
    }
    finish(call, () -> {
      if (type.equals("Cancelled")) {
        call.cancelledByWorker();
      } else {
        call.fail(new RemoteException(config.language.id(), pid, call.function, type, message,
            header.path("traceback").asText("")));
      }
    });
  }

  private void pumpStderr() {
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        synchronized (stderrTail) {
          addTail(line);
        }
        stderrLog.info("[{} worker {}] {}", config.language.id(), pid, line);
      }
    } catch (IOException e) {
      // The process is gone; its stderr closed with it.
    }
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
   * Sends a call (its header and buffers were encoded when it was made).
   *
   * @return false if the worker was stopped before the call could go out (the pool sends it
   *     elsewhere); true if it was sent, or failed with the reason
   */
  boolean send(Call call) {
    long id = ids.incrementAndGet();
    call.attach(this, id);
    ObjectNode header = call.header;
    header.put("id", id);
    List<ByteBuffer> buffers = call.buffers;
    calls.put(id, call);
    callsStarted.incrementAndGet();
    if (state == State.DEAD) { // died between the pool's choice and now: die() may have run
      if (calls.remove(id) != null) {
        call.fail(deathCause != null ? deathCause : crashed("had exited", null));
      }
      return true;
    }
    writeLock.lock();
    try {
      if (stopSent) { // retired between the pool's choice and now: the call never went out
        calls.remove(id);
        callsStarted.decrementAndGet();
        return false;
      }
      write(header, buffers);
    } catch (ProtocolException e) {
      calls.remove(id);
      call.fail(new IllegalArgumentException("cannot send the arguments of " + call.function
          + ": " + e.getMessage(), e));
    } catch (IOException e) {
      // The pipe broke: the process is dying and the reader will fail this call with the cause.
      process.destroyForcibly();
    } finally {
      writeLock.unlock();
    }
    return true;
  }

  void cancel(long id) {
    ObjectNode header = NODES.objectNode();
    header.put("kind", "cancel");
    header.put("id", id);
    writeQuietly(header);
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
        if (stopSent || (onlyIfIdle && !calls.isEmpty())) {
          return;
        }
        stopSent = true;
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

  /** Kills the process; calls in flight fail with "was killed: reason". */
  void kill(String reason) {
    killWith(crashed("was killed: " + reason, null));
  }

  /** Kills the process; calls in flight fail with {@code cause}. */
  void killWith(WorkerCrashedException cause) {
    if (deathCause == null) {
      deathCause = cause;
    }
    state = State.DEAD;
    process.destroyForcibly();
  }

  /** Fails every call in flight and tells the pool; {@code observed} is built after the exit. */
  private void die(Supplier<WorkerCrashedException> observed) {
    if (!dead.compareAndSet(false, true)) {
      return;
    }
    state = State.DEAD;
    awaitExit();
    WorkerCrashedException cause = deathCause != null ? deathCause : observed.get();
    deathCause = cause;
    for (Long id : List.copyOf(calls.keySet())) {
      Call call = calls.remove(id);
      if (call != null) {
        call.fail(cause);
      }
    }
    ChildProcesses.unregister(process);
    listener.onDeath(this, cause);
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

  void drain() {
    if (state == State.READY) {
      state = State.DRAINING;
    }
  }

  int inFlight() {
    return calls.size();
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

  boolean owns(Call call) {
    return calls.containsKey(call.id()) && calls.get(call.id()) == call;
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
    return config.language.id() + " worker " + pid + " (" + state + ", " + calls.size()
        + " in flight)";
  }
}
