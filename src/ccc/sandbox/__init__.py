"""`ccc sandbox`: a local, stateful stand-in for the part of GitHub that ccc uses (REST + git over HTTP)."""
