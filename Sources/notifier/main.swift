// Placeholder until the worker runtime lands; replaced by the worker's wiring.
print("notifier: not wired yet")
