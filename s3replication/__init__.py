"""Set up and keep S3 Cross-Region and Same-Region Replication right."""

import logging

# Until a run opens the log file, nothing goes to the screen through logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
