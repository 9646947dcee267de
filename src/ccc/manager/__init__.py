"""The manager: task manifests become issues (plan/sync), dashboards (summarize), reaping of expired leases."""
