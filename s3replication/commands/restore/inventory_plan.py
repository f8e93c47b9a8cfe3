"""Placeholder: the inventory path of `restore` (built on another branch, issue 22).

`plan_from_inventory(ctx, scope, to, max_report, engine) -> RestorePlan` reads the newest S3
Inventory report through DuckDB or Athena and judges it with `plan.judge`.
"""
