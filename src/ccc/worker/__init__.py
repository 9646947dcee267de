"""The worker use case: find a task, claim it exactly once, run an agent on it, deliver a pull request."""
