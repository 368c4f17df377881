"""After a crash or power loss: find unfinished sessions and repair them (`recover` tool)."""
