package dev.open.dag.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The retry policy's own arithmetic, with the jitter pinned through the package's seam. */
class RetryPolicyTest {
  @Test
  void jitterStaysWithinItsBounds() {
    RetryPolicy retry = RetryPolicy.builder()
        .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(10)).withJitter(0.5).build();
    assertThat(retry.delayAfter(1, 0.0)).isEqualTo(Duration.ofMillis(50));
    assertThat(retry.delayAfter(1, 0.5)).isEqualTo(Duration.ofMillis(100));
    assertThat(retry.delayAfter(3, 0.5)).isEqualTo(Duration.ofMillis(400));
    for (int i = 0; i < 1000; i++) {
      assertThat(retry.delayAfter(2)).isBetween(Duration.ofMillis(100), Duration.ofMillis(300));
    }
  }

  /**
   * docs/dag.md, "Retry": 3 attempts, 100 ms doubling to 10 s, ±25% jitter, any Exception and
   * never an Error.
   */
  @Test
  void theRetryDefaultsAreThoseTheGuideStates() {
    RetryPolicy retry = RetryPolicy.builder().build();
    assertThat(retry.maxAttempts()).isEqualTo(3);
    assertThat(retry.delayAfter(1, 0.5)).isEqualTo(Duration.ofMillis(100));
    assertThat(retry.delayAfter(2, 0.5)).isEqualTo(Duration.ofMillis(200));
    assertThat(retry.delayAfter(20, 0.5)).isEqualTo(Duration.ofSeconds(10));
    assertThat(retry.delayAfter(1, 0.0)).isEqualTo(Duration.ofMillis(75));
    assertThat(retry.delayAfter(1, 1.0)).isEqualTo(Duration.ofMillis(125));
    assertThat(retry.shouldRetry(new java.io.IOException(), 1)).isTrue();
    assertThat(retry.shouldRetry(new AssertionError(), 1)).isFalse();
    assertThat(retry.shouldRetry(new java.io.IOException(), 3)).isFalse();
  }

  /** docs/development.md, "Conventions": a setting given twice throws, naming the first value. */
  @Test
  void aRetrySettingGivenTwiceIsAMistakeNamedWithItsFirstValue() {
    assertThatThrownBy(
        () -> RetryPolicy.builder().withMaxAttempts(3).withMaxAttempts(5))
        .isInstanceOf(IllegalStateException.class).hasMessage("maxAttempts was already set to 3");
    assertThatThrownBy(
        () -> RetryPolicy.builder().withJitter(0.1).withJitter(0.2))
        .isInstanceOf(IllegalStateException.class).hasMessage("jitter was already set to 0.1");
    assertThatThrownBy(() -> RetryPolicy.builder()
        .withBackoff(Duration.ofMillis(10), Duration.ofSeconds(1)).withDelay(Duration.ZERO))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the delay was already set to withBackoff(PT0.01S, PT1S, 2.0)");
  }

  /** A fixed delay has no jitter unless asked for, in whichever order the settings come. */
  @Test
  void aFixedDelayKeepsTheJitterItWasGiven() {
    RetryPolicy fixed = RetryPolicy.builder().withDelay(Duration.ofMillis(100)).build();
    assertThat(fixed.delayAfter(1, 0.0)).isEqualTo(Duration.ofMillis(100));
    RetryPolicy jitterFirst = RetryPolicy.builder().withJitter(0.5)
        .withDelay(Duration.ofMillis(100)).build();
    assertThat(jitterFirst.delayAfter(1, 0.0)).isEqualTo(Duration.ofMillis(50));
  }
}
