package dev.open.rust;

/**
 * The smallest and largest element of a sample (both NaN if it contains NaN, as NumPy).
 *
 * @param min the smallest element
 * @param max the largest element
 */
public record MinMax(double min, double max) {}
