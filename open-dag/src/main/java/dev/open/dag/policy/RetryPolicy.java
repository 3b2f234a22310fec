package dev.open.dag.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * When and how often a failed task is tried again. Immutable and thread-safe; build one with
 * {@link #builder()} and share it between nodes and DAGs.
 *
 * <p>Defaults of a built policy: 3 attempts in all (the first try and up to 2 retries),
 * exponential backoff starting at 100 ms, doubling up to 10 s, jitter factor 0.25, retrying
 * every {@link Exception} (never an {@link Error}). {@link #none()} makes a single attempt.
 *
 * <p>The delay before retry {@code n} (1-based) is {@code min(maxDelay, initialDelay ·
 * multiplier^(n-1))}, then moved by a random amount of at most {@code ±jitter} of itself.
 *
 * <pre>{@code
 * RetryPolicy retry = RetryPolicy.builder()
 *     .withMaxAttempts(5)
 *     .withBackoff(Duration.ofMillis(50), Duration.ofSeconds(2))
 *     .handle(IOException.class)
 *     .build();
 * }</pre>
 */
public final class RetryPolicy {

  private static final RetryPolicy NONE = builder().withMaxAttempts(1).build();

  private final int maxAttempts;
  private final Duration initialDelay;
  private final Duration maxDelay;
  private final double multiplier;
  private final double jitter;
  private final List<Predicate<? super Throwable>> handled;
  private final List<Class<? extends Throwable>> aborting;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialDelay = b.initialDelay;
    this.maxDelay = b.maxDelay;
    this.multiplier = b.multiplier;
    // A fixed delay (multiplier 1 from withDelay) has no jitter unless it was asked for.
    this.jitter = b.jitter != null ? b.jitter
        : b.delayGiven != null && b.delayGiven.startsWith("withDelay") ? 0.0 : 0.25;
    this.handled = b.handled.isEmpty() ? List.of(Exception.class::isInstance) : List.copyOf(b.handled);
    this.aborting = List.copyOf(b.aborting);
  }

  /** {@return a policy that never retries: every task gets exactly one attempt} */
  public static RetryPolicy none() {
    return NONE;
  }

  /** {@return a new builder with the defaults stated in the class description} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the total number of attempts, including the first; at least 1} */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Returns whether a task that failed with {@code failure} on attempt {@code attempt} (1-based)
   * should be tried again.
   *
   * @param failure the exception thrown by the attempt
   * @param attempt the number of the attempt that failed, starting at 1
   * @return true if another attempt is allowed and the failure is one this policy handles
   */
  public boolean shouldRetry(Throwable failure, int attempt) {
    Objects.requireNonNull(failure, "failure");
    if (attempt >= maxAttempts) {
      return false;
    }
    for (Class<? extends Throwable> type : aborting) {
      if (type.isInstance(failure)) {
        return false;
      }
    }
    for (Predicate<? super Throwable> condition : handled) {
      if (condition.test(failure)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the delay before the retry that follows failed attempt {@code attempt}, with jitter
   * drawn from {@link ThreadLocalRandom}.
   *
   * @param attempt the number of the attempt that failed, starting at 1
   * @return the delay to wait, never negative
   */
  public Duration delayAfter(int attempt) {
    return delayAfter(attempt, ThreadLocalRandom.current().nextDouble());
  }

  /**
   * Returns the delay before the retry that follows failed attempt {@code attempt}, using {@code
   * random} (uniform in [0, 1)) for the jitter: the seam through which tests pin it.
   *
   * @param attempt the number of the attempt that failed, starting at 1
   * @param random a number in [0, 1); 0.5 gives the delay without jitter
   * @return the delay to wait, never negative
   */
  Duration delayAfter(int attempt, double random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, was " + attempt);
    }
    double nanos = initialDelay.toNanos() * Math.pow(multiplier, attempt - 1);
    nanos = Math.min(nanos, maxDelay.toNanos());
    nanos += nanos * jitter * (2 * random - 1);
    return Duration.ofNanos(Math.max(0, (long) nanos));
  }

  @Override
  public String toString() {
    return "RetryPolicy[maxAttempts=" + maxAttempts + ", initialDelay=" + initialDelay
        + ", maxDelay=" + maxDelay + ", multiplier=" + multiplier + ", jitter=" + jitter + "]";
  }

  /**
   * Builds a {@link RetryPolicy}. Not thread-safe; {@link #build()} snapshots the settings, so a
   * builder can be reused and a built policy never changes. Each setting may be given once:
   * twice is a mistake and throws {@link IllegalStateException} naming the first value, and so
   * does giving both {@link #withBackoff} and {@link #withDelay}, which set the same delays.
   * {@link #handle}, {@link #handleIf} and {@link #abortOn} add up.
   */
  public static final class Builder {
    private int maxAttempts = 3;
    private Duration initialDelay = Duration.ofMillis(100);
    private Duration maxDelay = Duration.ofSeconds(10);
    private double multiplier = 2.0;
    private Double jitter;
    private String maxAttemptsGiven;
    private String delayGiven;
    private final List<Predicate<? super Throwable>> handled = new ArrayList<>();
    private final List<Class<? extends Throwable>> aborting = new ArrayList<>();

    private Builder() {}

    private static String once(String given, String setting, String value) {
      if (given != null) {
        throw new IllegalStateException(setting + " was already set to " + given);
      }
      return value;
    }

    /**
     * Sets the total number of attempts, including the first (default 3).
     *
     * @param maxAttempts at least 1
     * @return this builder
     */
    public Builder withMaxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
      }
      maxAttemptsGiven = once(maxAttemptsGiven, "maxAttempts", Integer.toString(maxAttempts));
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * Sets exponential backoff doubling from {@code initialDelay} up to {@code maxDelay}.
     *
     * @param initialDelay the delay before the first retry, not negative
     * @param maxDelay the largest delay, at least {@code initialDelay}
     * @return this builder
     */
    public Builder withBackoff(Duration initialDelay, Duration maxDelay) {
      return withBackoff(initialDelay, maxDelay, 2.0);
    }

    /**
     * Sets exponential backoff from {@code initialDelay}, multiplied by {@code multiplier} after
     * each failure, up to {@code maxDelay}.
     *
     * @param initialDelay the delay before the first retry, not negative
     * @param maxDelay the largest delay, at least {@code initialDelay}
     * @param multiplier the growth factor, at least 1
     * @return this builder
     */
    public Builder withBackoff(Duration initialDelay, Duration maxDelay, double multiplier) {
      requireNonNegative(initialDelay, "initialDelay");
      requireNonNegative(maxDelay, "maxDelay");
      if (maxDelay.compareTo(initialDelay) < 0) {
        throw new IllegalArgumentException(
            "maxDelay (" + maxDelay + ") must be >= initialDelay (" + initialDelay + ")");
      }
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be finite and >= 1, was " + multiplier);
      }
      delayGiven = once(delayGiven, "the delay", "withBackoff(" + initialDelay + ", " + maxDelay
          + ", " + multiplier + ")");
      this.initialDelay = initialDelay;
      this.maxDelay = maxDelay;
      this.multiplier = multiplier;
      return this;
    }

    /**
     * Sets a fixed delay between attempts: no growth, and no jitter unless {@link #withJitter}
     * is given too.
     *
     * @param delay the delay before every retry, not negative
     * @return this builder
     */
    public Builder withDelay(Duration delay) {
      requireNonNegative(delay, "delay");
      delayGiven = once(delayGiven, "the delay", "withDelay(" + delay + ")");
      this.initialDelay = delay;
      this.maxDelay = delay;
      this.multiplier = 1.0;
      return this;
    }

    /**
     * Sets the jitter factor (default 0.25 with backoff, 0 with a fixed delay): each delay is
     * moved by a uniformly random amount of at most {@code ±factor} times itself, so that tasks
     * failing together do not retry together.
     *
     * @param factor in [0, 1]
     * @return this builder
     */
    public Builder withJitter(double factor) {
      if (!(factor >= 0.0 && factor <= 1.0)) {
        throw new IllegalArgumentException("jitter factor must be in [0, 1], was " + factor);
      }
      if (jitter != null) {
        throw new IllegalStateException("jitter was already set to " + jitter);
      }
      this.jitter = factor;
      return this;
    }

    /**
     * Retries only failures that are instances of one of {@code types} (default: any {@link
     * Exception}). May be called several times; the conditions add up.
     *
     * @param types the exception types to retry
     * @return this builder
     */
    @SafeVarargs
    public final Builder handle(Class<? extends Throwable>... types) {
      Objects.requireNonNull(types, "types");
      for (Class<? extends Throwable> type : types) {
        Objects.requireNonNull(type, "types contains null");
        handled.add(type::isInstance);
      }
      return this;
    }

    /**
     * Retries failures for which {@code condition} is true. Adds to {@link #handle(Class[])}.
     *
     * @param condition a predicate on the failure
     * @return this builder
     */
    public Builder handleIf(Predicate<? super Throwable> condition) {
      handled.add(Objects.requireNonNull(condition, "condition"));
      return this;
    }

    /**
     * Never retries failures that are instances of one of {@code types}, even when handled.
     *
     * @param types the exception types that end the retries at once
     * @return this builder
     */
    @SafeVarargs
    public final Builder abortOn(Class<? extends Throwable>... types) {
      Objects.requireNonNull(types, "types");
      for (Class<? extends Throwable> type : types) {
        aborting.add(Objects.requireNonNull(type, "types contains null"));
      }
      return this;
    }

    /** {@return a new immutable policy with this builder's settings} */
    public RetryPolicy build() {
      return new RetryPolicy(this);
    }

    private static void requireNonNegative(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, was " + d);
      }
    }
  }
}
