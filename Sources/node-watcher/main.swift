// Placeholder until the worker runtime lands; replaced by the worker's wiring.
print("node-watcher: not wired yet")
