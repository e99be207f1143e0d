"""The Redis the job and outage tests use."""

# A database index of its own, so the test never touches a real deployment's queue.
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
