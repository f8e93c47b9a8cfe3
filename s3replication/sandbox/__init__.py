"""The local sandbox: a MiniStack server that outlives each command (server), and `make demo`."""

from s3replication.sandbox.server import (
    HEALTH_PATH,
    PROJECT_ROOT,
    SERVICES,
    START_TIMEOUT,
    STATE_DIR,
    STOP_TIMEOUT,
    SandboxError,
    endpoint,
    ensure_running,
    free_port,
    is_healthy,
    main,
    ministack_command,
    reset,
    sandbox_session,
    server_env,
    start_ministack,
    status,
    stop,
)

__all__ = [
    "HEALTH_PATH", "PROJECT_ROOT", "SERVICES", "START_TIMEOUT", "STATE_DIR", "STOP_TIMEOUT",
    "SandboxError", "endpoint", "ensure_running", "free_port", "is_healthy", "main",
    "ministack_command", "reset", "sandbox_session", "server_env", "start_ministack", "status",
    "stop",
]
