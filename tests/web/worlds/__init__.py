"""What test modules share: the worlds they build (clients, regions, stores, people,
checklists, waves, visits), the fixtures that build them, and helpers for driving and
reading their pages. One module per world; a test module imports from here, never from
another test module (tests/test_architecture.py checks)."""
