// Placeholder until the supervisor command lands.
print("supervisor: not wired yet")
