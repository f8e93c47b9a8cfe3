"""Known AWS failures become one clear line naming the call, the resource and the error code:
no traceback on the screen, the failure and its traceback in the log, one line each.

AWS errors MiniStack cannot produce (another account's bucket, a missing permission) are
answered by the fault proxy in AWS's own wire format, so botocore parses them as it would
AWS's; disabled and deleted keys are real MiniStack state."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from s3replication import cli
from s3replication.aws.clients import Clients
from tests.converged import clients_for, run, scale_backoff
from tests.faultproxy import FaultProxy, Request, Response, error_response
from tests.shop import Run, run_script, shop_config


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(shop_config(tmp_path))


@pytest.fixture
def log(tmp_path: Path):
    return lambda: (tmp_path / "replication_logs.txt").read_text()


def answering(operation: str, status: int, code: str, message: str, path_end: str = ""):
    """A proxy `respond` that answers every `operation` request (on a path ending with
    `path_end`) with an AWS error."""
    def respond(request: Request) -> Response | None:
        if request.operation == operation and request.path.endswith(path_end):
            return error_response(request, status, code, message)
        return None
    return respond


def failures(result: Run) -> list[str]:
    """The failures of a run that stopped part way: one "error: " line each, on stderr."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    return [line.removeprefix("error: ") for line in lines]


def assert_no_traceback(result: Run) -> None:
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr


def apply_through(ministack_endpoint: str, config: str, respond, *argv: str) -> Run:
    with FaultProxy(ministack_endpoint, respond=respond) as proxy:
        return run(proxy.url, "crr", "apply", "--config", config, *argv)


# -- credentials and endpoints --------------------------------------------------------------


def test_no_credentials_says_sandbox_or_profile(config, monkeypatch, tmp_path):
    for name in [n for n in __import__("os").environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out, err = io.StringIO(), io.StringIO()

    status = cli.main("crr", ["apply", "--config", config], stdout=out, stderr=err)

    assert status == 1
    assert out.getvalue() == ""
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith("error: no AWS credentials found")
    assert "--sandbox" in err.getvalue() and "AWS_PROFILE" in err.getvalue()


def test_unreachable_endpoint_is_one_line(config, monkeypatch, log):
    scale_backoff(monkeypatch, 0.01)
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there

    result = run(closed, "crr", "apply", "--config", config)

    assert result.status == 1
    assert result.stderr.count("\n") == 1
    assert "finding the AWS account (sts:GetCallerIdentity): cannot reach the endpoint" in (
        result.stderr)
    assert_no_traceback(result)
    assert "cannot reach the endpoint" in log()


# -- AccessDenied --------------------------------------------------------------------------


def test_access_denied_on_s3_names_the_permission_and_bucket(ministack_endpoint,
                                                             reset_ministack, config, log):
    result = apply_through(ministack_endpoint, config,
                           answering("PUT ?versioning", 403, "AccessDenied", "Access Denied"))

    assert result.status == 1
    assert "create versioning of bucket shopco-data-use1 (us-east-1): access denied; the " \
           "caller needs s3:PutBucketVersioning (Access Denied)" in failures(result)
    assert len(failures(result)) == 4  # every bucket of the CRR rules, one line each
    assert_no_traceback(result)
    assert " ERROR cr_replication apply failed: create versioning of bucket shopco-data-use1 " \
           "(us-east-1): access denied" in log()


def test_access_denied_on_iam_names_the_permission_and_role(ministack_endpoint,
                                                           reset_ministack, config):
    message = ("User: arn:aws:iam::000000000000:user/ops is not authorized to perform: "
               "iam:PutRolePolicy on resource: role shopco-data-use1-replication")
    result = apply_through(ministack_endpoint, config,
                           answering("PutRolePolicy", 403, "AccessDenied", message))

    assert result.status == 1
    assert (f"create permissions (s3-replication-crr) of role shopco-data-use1-replication: "
            f"access denied; the caller needs iam:PutRolePolicy ({message})") in failures(result)
    assert_no_traceback(result)


def test_access_denied_on_the_account_lookup_goes_to_stderr(ministack_endpoint, config):
    result = apply_through(ministack_endpoint, config,
                           answering("GetCallerIdentity", 403, "AccessDenied", "no"))

    assert result.status == 1
    assert result.stdout == ""
    assert result.stderr == ("error: finding the AWS account (sts:GetCallerIdentity): access "
                             "denied; the caller needs sts:GetCallerIdentity (no)\n")


def test_traceback_goes_to_the_log_with_verbose(ministack_endpoint, reset_ministack, config,
                                                log):
    result = apply_through(ministack_endpoint, config,
                           answering("PUT ?versioning", 403, "AccessDenied", "Access Denied"),
                           "-v")

    assert result.status == 1
    assert_no_traceback(result)
    assert "Traceback (most recent call last)" in log()
    assert "An error occurred (AccessDenied) when calling the PutBucketVersioning" in log()


# -- buckets owned by someone else -------------------------------------------------------


def test_bucket_name_taken_by_another_account(ministack_endpoint, reset_ministack, config):
    result = apply_through(ministack_endpoint, config, answering(
        "PUT /", 409, "BucketAlreadyExists", "The requested bucket name is not available.",
        path_end="/shopco-data-usw2"))

    assert result.status == 1
    assert failures(result) == ["create bucket of bucket shopco-data-usw2 (us-west-2): the "
                                "bucket name is taken by another AWS account"]
    assert_no_traceback(result)


def test_existing_bucket_we_may_not_read(ministack_endpoint, reset_ministack, config):
    def forbidden(request: Request) -> Response | None:
        if request.method == "HEAD" and request.path.endswith("/shopco-assets-euw1"):
            return Response(403)  # HeadBucket answers have no body
        return None

    result = apply_through(ministack_endpoint, config, forbidden)

    assert result.status == 1
    assert failures(result) == ["bucket shopco-assets-euw1 (eu-west-1): the name is taken by "
                                "another AWS account, or the caller may not read it "
                                "(s3:ListBucket)"]


# -- S3 rejects the replication configuration ----------------------------------------------


def test_invalid_request_names_the_rules(ministack_endpoint, reset_ministack, config):
    result = apply_through(ministack_endpoint, config, answering(
        "PUT ?replication", 400, "InvalidRequest",
        "Replication destination must be different from source bucket",
        path_end="/shopco-data-use1"))

    assert result.status == 1
    assert failures(result) == [
        "writing replication rules catalog-usw2, orders-usw2, inventory-usw2 of bucket "
        "shopco-data-use1 (us-east-1): PutBucketReplication InvalidRequest: Replication "
        "destination must be different from source bucket"]
    assert_no_traceback(result)


# -- KMS keys that cannot be used -------------------------------------------------------


@pytest.mark.parametrize("spoil, state", [
    (lambda kms, key: kms.disable_key(KeyId=key), "Disabled"),
    (lambda kms, key: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7),
     "PendingDeletion"),
], ids=["disabled", "pending-deletion"])
def test_unusable_kms_key_is_named(ministack_endpoint, reset_ministack, config, spoil, state):
    assert run(ministack_endpoint, "crr", "apply", "--config", config).status == 0
    kms = clients_for(ministack_endpoint)().get("kms", "us-west-2")
    key = kms.describe_key(KeyId="alias/shopco-usw2")["KeyMetadata"]["Arn"]
    spoil(kms, key)

    result = run(ministack_endpoint, "crr", "apply", "--config", config)

    assert result.status == 1
    assert failures(result) == [
        f"kms key alias/shopco-usw2 (us-west-2): the KMS key {key} is {state}; replication "
        "into or out of its bucket would fail. Enable the key (or cancel its deletion), or "
        "name another key"]
    assert_no_traceback(result)
    assert run(ministack_endpoint, "crr", "plan", "--config", config).status == 3


def test_kms_invalid_state_from_aws_is_named(ministack_endpoint, reset_ministack, config):
    result = apply_through(ministack_endpoint, config, answering(
        "EnableKeyRotation", 400, "KMSInvalidStateException",
        "arn:aws:kms:us-west-2:000000000000:key/1234 is pending deletion."))

    assert result.status == 1
    assert "create alias of kms key alias/shopco-usw2 (us-west-2): the KMS key is disabled or " \
           "pending deletion (arn:aws:kms:us-west-2:000000000000:key/1234 is pending " \
           "deletion.)" in failures(result)


# -- retries run out; a bug ---------------------------------------------------------------


def test_retries_run_out_naming_call_resource_and_code(ministack_endpoint, reset_ministack,
                                                       config, monkeypatch):
    scale_backoff(monkeypatch, 0.01)
    with FaultProxy(ministack_endpoint, respond=answering(
            "PUT ?versioning", 500, "InternalError", "We encountered an internal error.",
            path_end="/shopco-assets-euw1")) as proxy:
        result = run(proxy.url, "crr", "apply", "--config", config)

    attempts = [r for r in proxy.seen
                if r.operation == "PUT ?versioning" and r.path.endswith("/shopco-assets-euw1")]
    assert len(attempts) == 11  # the first try and 10 retries
    assert result.status == 1
    assert failures(result) == [
        "create versioning of bucket shopco-assets-euw1 (eu-west-1): PutBucketVersioning "
        "InternalError: We encountered an internal error."]


def test_unexpected_failure_is_one_line_and_a_logged_traceback(ministack_endpoint,
                                                               reset_ministack, config, log):
    clients = clients_for(ministack_endpoint)()

    def bug(service: str, operation: str, region: str) -> None:
        if operation == "CreateRole":
            raise RuntimeError("a bug in the tool")

    clients.on_call(bug)
    result = run_script("crr", "apply", "--config", config, clients=lambda: clients)

    assert result.status == 1
    assert result.stderr == ("error: RuntimeError: a bug in the tool (details in the log "
                             "file)\n")
    assert "Traceback (most recent call last)" in log()
    record = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR) "
                        r"cr_replication apply ")
    assert all(record.match(line) for line in log().splitlines())  # a traceback is one line


# -- usage and config ----------------------------------------------------------------------


def test_unknown_command_is_usage_error(capsys):
    assert cli.main("crr", ["frobnicate"], stdout=io.StringIO(), stderr=io.StringIO()) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_missing_config_file_is_exit_2_before_any_call(tmp_path, monkeypatch):
    made: list[Clients] = []
    monkeypatch.setattr(cli, "_clients", lambda sandbox: made.append(Clients()) or made[-1])
    out, err = io.StringIO(), io.StringIO()

    status = cli.main("crr", ["apply", "--config", str(tmp_path / "nope.py")], stdout=out,
                      stderr=err)

    assert status == 2
    assert made == []
    assert f"{tmp_path / 'nope.py'}: 1 problem:" in err.getvalue()
    assert "cannot read the file" in err.getvalue()
