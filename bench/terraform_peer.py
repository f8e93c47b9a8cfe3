"""Terraform, measured: ``init``, ``apply`` and ``plan`` of ``bench/terraform/`` on a fresh
MiniStack (``terraform_run``), or step by step on a working directory that
``terraform_setup.terraform_workdir`` prepared."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from bench.common import WORK_DIR, Measurement, tail
from bench.emulator_quirks import flake_detail, is_flake, is_known_drift
from bench.ministack_server import ministack, run_measured
from bench.terraform_setup import terraform_resource_count, terraform_workdir, tf_env

_ERROR_RE = re.compile(r"^Error: (.+)$", re.M)
_APPLY_RE = re.compile(r"Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed")
_PLAN_RE = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_CHANGE_RE = re.compile(r"^\s*# (\S+) (will be|must be) ([^\n]+)$", re.M)
_PLAN = ["terraform", "plan", "-refresh=true", "-input=false", "-lock=false",
         "-detailed-exitcode", "-no-color"]


def terraform_init(workdir: str | os.PathLike[str]) -> Measurement:
    """``terraform init`` from the filesystem mirror, with the shared plugin cache."""
    wd = Path(workdir)
    s, rss, rc, out = run_measured(
        ["terraform", "init", "-input=false", "-no-color", "-backend=false"],
        env=tf_env(wd), cwd=wd)
    return Measurement(s, rss, rc == 0, "initialised" if rc == 0 else tail(out))


def terraform_apply(workdir: str | os.PathLike[str]) -> Measurement:
    """``terraform apply -auto-approve`` (refresh included, as users run it); the output goes
    to ``apply.log``.  A failure that is only the MiniStack flake is marked (``is_flake``)."""
    wd = Path(workdir)
    s, rss, rc, out = run_measured(
        ["terraform", "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"],
        env=tf_env(wd), cwd=wd)
    (wd / "apply.log").write_text(out)
    m = _APPLY_RE.search(out)
    if rc == 0 and m:
        detail = f"{m.group(1)} added, {m.group(2)} changed, {m.group(3)} destroyed"
    elif rc == 0:
        detail = "no changes" if "No changes" in out else tail(out, 3)
    else:
        errors = _ERROR_RE.findall(out)
        detail = flake_detail(errors, "; ".join(errors[:5]) if errors else tail(out))
    return Measurement(s, rss, rc == 0, detail)


def terraform_plan(workdir: str | os.PathLike[str]) -> Measurement:
    """``terraform plan -refresh=true -input=false -lock=false -detailed-exitcode``.

    ``ok`` is True when the plan ran (exit 0 or 2).  ``detail`` is "no changes", or the
    summary; ``changes`` lists "<address> <action>"; ``only_known_drift`` is True when every
    change is the MiniStack alarm read-back drift (``emulator_quirks``, quirk 1)."""
    wd = Path(workdir)
    s, rss, rc, out = run_measured(_PLAN, env=tf_env(wd), cwd=wd)
    (wd / "plan.log").write_text(out)
    if rc == 0:
        return Measurement(s, rss, True, "no changes", (), True)
    if rc != 2:
        return Measurement(s, rss, False, tail(out))
    found = _CHANGE_RE.findall(out)
    changes = tuple(f"{a} {w}" for a, _v, w in found)
    known = bool(found) and all(is_known_drift(a, w) for a, _v, w in found)
    m = _PLAN_RE.search(out)
    head = (
        f"{m.group(1)} to add, {m.group(2)} to change, {m.group(3)} to destroy" if m else "changes"
    )
    if known:
        detail = f"{head}: only the MiniStack alarm read-back drift ({len(found)} alarms)"
    else:
        detail = head + ("; " + "; ".join(changes[:20]) if changes else "")
        if len(changes) > 20:
            detail += f"; ... ({len(changes)} in all)"
    return Measurement(s, rss, True, detail, changes, known)


@dataclass
class TerraformRun:
    """One side-by-side Terraform measurement on its own fresh MiniStack."""

    n_pairs: int
    resources: int
    init: Measurement
    apply: Measurement
    plan: Measurement | None
    attempts: int  # 1 unless a MiniStack connection flake forced a redo


def terraform_run(
    n_pairs: int,
    workdir: str | os.PathLike[str] | None = None,
    *,
    plan: bool = True,
    attempts: int = 3,
    prefix: str = "bench",
) -> TerraformRun:
    """Start a fresh MiniStack, prepare the working directory, ``init``, ``apply`` and
    (``plan=True``) ``plan``; stop the server.

    If ``apply`` fails only with the MiniStack connection flake (``is_flake``), the whole
    run is redone on a new server, up to ``attempts`` times; ``TerraformRun.attempts`` says
    how many it took and only the last run's figures are returned.
    """
    wd = Path(workdir) if workdir is not None else WORK_DIR / f"tf-{n_pairs}"
    resources = terraform_resource_count(n_pairs)
    for attempt in range(1, max(1, attempts) + 1):
        with ministack() as ep:
            terraform_workdir(n_pairs, ep, wd, prefix=prefix)
            mi = terraform_init(wd)
            if not mi.ok:
                failed = Measurement(0.0, 0, False, "init failed")
                return TerraformRun(n_pairs, resources, mi, failed, None, attempt)
            ma = terraform_apply(wd)
            if is_flake(ma) and attempt < attempts:
                continue
            mp = terraform_plan(wd) if plan and ma.ok else None
            return TerraformRun(n_pairs, resources, mi, ma, mp, attempt)
    raise AssertionError("unreachable")
