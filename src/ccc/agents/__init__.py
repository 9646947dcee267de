"""Agent presets: drivers for known coding agents, each returning an AgentReport the worker publishes."""
