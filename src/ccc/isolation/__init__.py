"""Confining the agent: bubblewrap namespaces, an egress allow-list proxy, the model API key kept outside."""
