// Placeholder until the worker runtime lands; replaced by the worker's wiring.
print("fork-worker: not wired yet")
