"""Analysis: turn reader output into split gate tensors, statistics and rule findings."""
