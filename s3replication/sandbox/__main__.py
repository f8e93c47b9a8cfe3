"""`python -m s3replication.sandbox {start,stop,reset,status}`."""

from s3replication.sandbox.state import main

raise SystemExit(main())
