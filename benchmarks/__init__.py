"""`make bench`: how fast toxmon serves, measured, not tested (see docs/benchmark.md)."""
