"""Speed and memory checks: scripts that print ratios measured within one run."""
