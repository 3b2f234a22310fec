package dev.open.rust;

/**
 * The mean and variance of a sample.
 *
 * @param mean the arithmetic mean
 * @param variance the sum of squared deviations divided by {@code n - ddof}
 */
public record MeanVariance(double mean, double variance) {}
