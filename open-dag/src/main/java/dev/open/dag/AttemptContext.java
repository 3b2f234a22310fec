package dev.open.dag;

/** What an {@link Node.Invoker} may need to know about the attempt it runs. */
record AttemptContext(String dag, String node, int attempt) {}
