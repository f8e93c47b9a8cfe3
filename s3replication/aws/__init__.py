"""Talking to AWS: the client factory, names and ARNs, error mapping and retries."""
