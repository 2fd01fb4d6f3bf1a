"""The imperative shell's helpers: settings, clock, state store, atomic files, policies."""
