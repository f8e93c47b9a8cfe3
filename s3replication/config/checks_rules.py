"""CRR_RULES and SRR_RULES: each rule, then the checks across rules (ids, priorities, keys,
roles)."""

from __future__ import annotations

from typing import Any

from s3replication.config.checks_buckets import spec_of
from s3replication.config.checks_tags import tags
from s3replication.config.messages import show, unknown_keys
from s3replication.config.model import CRR, RULE_LISTS, SRR, BucketSpec, RuleSpec

RULE_KEYS = ("id", "source", "destination", "prefix", "tags", "priority", "rtc",
             "delete_markers", "storage_class", "replica_modifications")
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")


def rules(kind: str, value: object, declared: set[str], specs: dict[str, BucketSpec],
          problems: list[str]) -> tuple[RuleSpec, ...]:
    name = RULE_LISTS[kind]
    if not isinstance(value, (list, tuple)):
        problems.append(f"{name}: must be a list of rules, not {type(value).__name__}")
        return ()
    found = []
    for index, rule in enumerate(value):
        if not isinstance(rule, dict):
            problems.append(f"{name}[{index}]: a rule must be a dict, not {show(rule)}")
            continue
        rule_id = rule.get("id")
        label = f" {show(rule_id)}" if isinstance(rule_id, str) else ""
        found.append(_rule(kind, f"{name}[{index}]{label}", rule, declared, specs, problems))
    return tuple(found)


def _rule(kind: str, setting: str, rule: dict[Any, Any], declared: set[str],
          specs: dict[str, BucketSpec], problems: list[str]) -> RuleSpec:
    """One rule as written (Any: a ConfigError is raised before a wrong value is used)."""
    unknown_keys(setting, rule, RULE_KEYS, problems)
    _check_ends(kind, setting, rule, declared, specs, problems)
    prefix = rule.get("prefix", "")
    if not isinstance(prefix, str):
        problems.append(f"{setting}: prefix must be a str, not {show(prefix)}")
    rule_tags = tags(f"{setting} tags", rule.get("tags"), problems)
    priority = rule.get("priority")
    if priority is not None and (type(priority) is not int or priority < 0):
        problems.append(f"{setting}: priority must be a whole number, 0 or more, "
                        f"not {show(priority)}")
    # Delete markers are not protected by Object Lock, so a rule into a locked bucket leaves
    # them out unless it says otherwise (object-lock-managing.html, "Using Object Lock with
    # S3 Replication"); tag-filtered rules cannot replicate them at all.
    into_lock = bool((to_spec := spec_of(specs, rule.get("destination"))) and to_spec.object_lock)
    flags = {key: rule.get(key, default) for key, default in (
        ("rtc", True), ("delete_markers", not rule_tags and not into_lock),
        ("replica_modifications", False))}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            problems.append(f"{setting}: {key} must be True or False, not {show(flag)}")
    if rule_tags and flags["delete_markers"] is True:
        problems.append(f"{setting}: delete_markers True with tags: S3 does not replicate "
                        "delete markers for rules that filter on tags")
    storage_class = rule.get("storage_class", "STANDARD")
    if storage_class not in STORAGE_CLASSES:
        problems.append(f"{setting}: storage_class {show(storage_class)} is not one of "
                        + ", ".join(STORAGE_CLASSES))
    written: dict[str, Any] = {key: rule.get(key) for key in ("id", "source", "destination")}
    return RuleSpec(kind=kind, prefix=prefix, tags=tuple(sorted(rule_tags.items())),
                    priority=priority, storage_class=storage_class, setting=setting,
                    **written, **flags)


def _check_ends(kind: str, setting: str, rule: dict[Any, Any], declared: set[str],
                specs: dict[str, BucketSpec], problems: list[str]) -> None:
    """id, source and destination: present, declared, and in Regions that fit the kind."""
    for key in ("id", "source", "destination"):
        if key not in rule:
            problems.append(f'{setting}: "{key}" is required')
        elif not isinstance(rule[key], str):
            problems.append(f"{setting}: {key} must be a str, not {show(rule[key])}")
    rule_id, source, destination = (rule.get(k) for k in ("id", "source", "destination"))
    if isinstance(rule_id, str) and not 1 <= len(rule_id) <= 255:
        problems.append(f"{setting}: id must be 1 to 255 characters long, not {len(rule_id)}")
    for key, bucket in (("source", source), ("destination", destination)):
        if isinstance(bucket, str) and bucket not in declared:
            problems.append(f"{setting}: {key} {show(bucket)} is not in BUCKETS")
    if isinstance(source, str) and source == destination:
        problems.append(f"{setting}: source and destination are both {show(source)}")
    elif (from_spec := spec_of(specs, source)) and (to_spec := spec_of(specs, destination)):
        from_region, to_region = from_spec.region, to_spec.region
        if from_region and to_region:
            if kind == CRR and from_region == to_region:
                problems.append(f"{setting}: destination region {to_region} equals source "
                                "region (same-Region rules belong in SRR_RULES)")
            if kind == SRR and from_region != to_region:
                problems.append(f"{setting}: destination region {to_region} differs from "
                                f"source region {from_region} (move the rule to CRR_RULES)")


def check_across_rules(all_rules: tuple[RuleSpec, ...], specs: dict[str, BucketSpec],
                       problems: list[str]) -> None:
    """Unique ids, unique priorities per source, SSE-KMS on both ends, one role per source."""
    ids: dict[str, RuleSpec] = {}
    priorities: dict[tuple[str, int], RuleSpec] = {}
    for rule in all_rules:
        if isinstance(rule.id, str) and ids.setdefault(rule.id, rule) is not rule:
            problems.append(f"{rule.setting}: id {show(rule.id)} is also used by "
                            f"{ids[rule.id].setting}")
        if isinstance(rule.source, str) and type(rule.priority) is int:
            first = priorities.setdefault((rule.source, rule.priority), rule)
            if first is not rule:
                problems.append(f"{rule.setting}: priority {rule.priority} on source "
                                f"{show(rule.source)} is also used by {first.setting}")
        source, destination = spec_of(specs, rule.source), spec_of(specs, rule.destination)
        if source and destination and source.kms_key and not destination.kms_key:
            problems.append(f"{rule.setting}: source {show(source.name)} uses SSE-KMS but "
                            f"destination {show(destination.name)} has no kms_key, so S3 "
                            "would silently skip the SSE-KMS objects")
    _check_roles(all_rules, specs, problems)


def _check_roles(all_rules: tuple[RuleSpec, ...], specs: dict[str, BucketSpec],
                 problems: list[str]) -> None:
    """Each source bucket its own role, and a default role name that IAM accepts."""
    roles: dict[str, str] = {}
    for name in dict.fromkeys(r.source for r in all_rules if spec_of(specs, r.source)):
        role = specs[name].replication_role
        setting = f'BUCKETS[{show(name)}]["replication_role"]'
        if not isinstance(role, str):
            continue
        if len(role) > 64 and role == f"{name}-replication":  # a written one: checked above
            problems.append(f"{setting}: the default role name {show(role)} is over 64 "
                            "characters; set a shorter replication_role")
        elif roles.setdefault(role, name) != name:
            problems.append(f"{setting}: role {show(role)} is also the role of source "
                            f"{show(roles[role])}; each source bucket needs its own role")
