// Placeholder until the worker runtime lands; replaced by the worker's wiring.
print("alert-worker: not wired yet")
