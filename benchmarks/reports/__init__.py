"""Reports built only from result JSON: reading results (:mod:`.results`), tables (:mod:`.tables`), figures
(:mod:`.plots`), published numbers (:mod:`.published`), and one report per suite and preset (:mod:`.build`)."""
