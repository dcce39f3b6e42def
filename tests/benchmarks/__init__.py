"""The benchmark suite behind ``make bench`` (not collected by the test run)."""
