package dev.open.ports;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The stream's queue, without a worker: backpressure and closing. */
class CallStreamTest {

  @Test
  void closingFromAnotherThreadEndsAConsumerWaitingForAChunk() throws Exception {
    CallStream stream = new CallStream();
    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Boolean> consumer = CompletableFuture.supplyAsync(() -> {
      waiting.countDown();
      return stream.hasNext(); // blocks: no chunk, no end
    });
    waiting.await();
    stream.close();
    assertThat(consumer.get(10, TimeUnit.SECONDS)).isFalse();
    assertThat(stream.hasNext()).isFalse();
  }

  @Test
  void aProducerAheadOfItsConsumerWaitsAndACloseReleasesIt() throws Exception {
    CallStream stream = new CallStream();
    for (int i = 0; i < CallStream.MAX_CHUNKS; i++) {
      stream.offer(i, 10);
    }
    CountDownLatch offering = new CountDownLatch(1);
    CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
      offering.countDown();
      stream.offer("one too many", 10); // waits for the consumer
    });
    offering.await();
    assertThat(producer).isNotDone();
    assertThat(stream.next()).isEqualTo(0); // room for one: the producer goes on
    producer.get(10, TimeUnit.SECONDS);

    CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> stream.offer("x", 10));
    stream.close(); // drops what waits and lets the producer go, dropping its chunk
    blocked.get(10, TimeUnit.SECONDS);
    assertThat(stream.hasNext()).isFalse();
  }
}
