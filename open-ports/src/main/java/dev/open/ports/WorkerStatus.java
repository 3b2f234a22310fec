package dev.open.ports;

import java.time.Duration;

/**
 * A snapshot of one worker of a {@link WorkerPool}.
 *
 * @param pid the process id
 * @param state {@code STARTING}, {@code READY}, {@code DRAINING} (recycled: finishing its calls)
 *     or {@code DEAD}
 * @param inFlight calls sent to it and not yet answered
 * @param callsStarted calls sent to it since it started
 * @param rssBytes its resident memory at the last pong, or -1 if not reported yet
 * @param age how long it has been running
 */
public record WorkerStatus(long pid, String state, int inFlight, long callsStarted,
    long rssBytes, Duration age) {}
