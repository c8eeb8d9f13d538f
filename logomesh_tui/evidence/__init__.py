"""The evidence engine: model-written code judged by programs (compiler, linter, probes run in a
sandbox), so the pool's choices rest on what the code does, not on what the models say."""
