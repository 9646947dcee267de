"""The task protocol shared by manager and worker: states and labels, hidden markers, claim records and leases."""
