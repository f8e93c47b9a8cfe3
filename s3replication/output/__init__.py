"""What a run shows and keeps: result types, the renderer, the run log, progress."""
