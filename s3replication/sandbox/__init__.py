"""The local sandbox: one MiniStack process (process), the persistent server that outlives
each command (state), and `make demo` (demo)."""

from s3replication.sandbox.process import (
    HEALTH_PATH,
    SANDBOX_KEY,
    SERVICES,
    START_TIMEOUT,
    STOP_TIMEOUT,
    SandboxError,
    endpoint,
    free_port,
    is_healthy,
    ministack_command,
    quiet_tls_warning,
    reach,
    reach_admin,
    sandbox_clients,
    sandbox_session,
    server_env,
    start_ministack,
)
from s3replication.sandbox.state import (
    PROJECT_ROOT,
    STATE_DIR,
    ensure_running,
    main,
    reset,
    status,
    stop,
)

__all__ = [
    "HEALTH_PATH", "PROJECT_ROOT", "SANDBOX_KEY", "SERVICES", "START_TIMEOUT", "STATE_DIR",
    "STOP_TIMEOUT", "SandboxError", "endpoint", "ensure_running", "free_port", "is_healthy",
    "main", "ministack_command", "quiet_tls_warning", "reach", "reach_admin", "reset",
    "sandbox_clients", "sandbox_session", "server_env", "start_ministack", "status", "stop",
]
