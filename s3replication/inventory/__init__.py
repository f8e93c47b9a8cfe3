"""The audit at any size, from S3 Inventory reports: finding and checking a report (reports),
the comparison in SQL (query), the engines that run it (duckdb_engine in-process,
athena_engine in Amazon Athena), the re-drive manifest (redrive), and the sandbox's stand-in
for S3's daily report job (standin)."""
