"""The engine: items and changes, the stage table per command, the run context and lock."""
