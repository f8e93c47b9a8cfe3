"""AWS rules the code relies on that neither moto nor MiniStack enforces, in one place.

An emulator agreeing proves little: MiniStack copies an object onto itself with nothing changed
and moto copies it too in a bucket with default encryption, or when a versioned bucket's
version id is named (every copy in place backfill makes), where AWS answers InvalidRequest.
So each rule below is enforced on every call the unit tests send to moto (`enforce`, applied
by the `moto_clients` fixture): a call that breaks it fails as AWS would fail it (a
ClientError with AWS's error code, and AWS's message where the pages quote it), before moto
sees it. `RULES` is the table: the rule, the AWS page that states it, what the emulators do,
how it is enforced here, and the tests whose code paths send such calls.
tests/test_aws_rules.py sends a deliberately broken call for each rule (it must fail) and the
call the code sends (it must pass).

The checks read moto's own stored state (versioning, Object Lock, replication, object sizes
and versions) from its in-process backend, so nothing is made up. A refused call never reaches
moto, nor the call hooks of s3replication.aws.clients (Run.calls does not list it).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

import botocore.handlers
import pytest
from botocore.exceptions import ClientError

MAX_COPY_BYTES = 5 * 1024**3  # CopyObject's, and each UploadPartCopy range's
SELF_COPY = ("This copy request is illegal because it is trying to copy an object to itself "
             "without changing the object's metadata, storage class, website redirect location "
             "or encryption attributes.")
CHANGES = ("StorageClass", "WebsiteRedirectLocation", "ServerSideEncryption", "SSEKMSKeyId",
           "SSECustomerAlgorithm")


@dataclass(frozen=True)
class Rule:
    name: str
    aws: str  # the AWS page(s) that state it
    emulators: str  # what moto 5.2 and MiniStack 1.5 do instead
    enforced: str  # how the unit tests enforce it (`enforce`)
    tests: tuple[str, ...]  # tests whose code paths send such calls


RULES = (
    Rule("copy onto itself must change something",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (CopyObject; "
         "changing metadata means copying the object onto itself: "
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/copy-object.html; AWS's SDK "
         "reference: \"You cannot copy an object to itself unless the Directive property is "
         "specified and its value set to REPLACE\"); a noncurrent version may be copied over "
         "its key as it is "
         "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/RestoringPreviousVersions.html)",
         "MiniStack accepts it; moto accepts it in a versioned bucket when a version id is "
         "named, or in a bucket with default encryption (every bucket apply makes)",
         "CopyObject with source = destination, the source its key's current version (or no "
         "version id), MetadataDirective not REPLACE and no storage class, website redirect or "
         "encryption header: InvalidRequest (AWS's message). The bucket's default encryption "
         "is not counted as a change: the code must not rely on it",
         ("test_inventory_unit.py::test_a_manifest_of_replicas_deleted_is_copied_in_place_"
          "even_when_batch_is_asked", "test_aws_rules.py::test_copy_in_place_passes_the_rules",
          "test_aws_rules.py::test_restore_copy_back_passes_the_rules")),
    Rule("CopyObject stops at 5 GB; UploadPartCopy ranges too",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html (\"to copy an "
         "object greater than 5 GB, you must use the multipart upload Upload Part - Copy "
         "(UploadPartCopy) API\"), "
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html (part size at most "
         "5 GiB)",
         "moto and MiniStack copy any size in one CopyObject",
         "CopyObject of a source version over 5 GiB, or UploadPartCopy of a range over 5 GiB: "
         "InvalidRequest",
         # object_copy's parts over the limit: end to end on MiniStack, the limit lowered
         ("test_aws_rules.py::test_a_copy_over_5_gb_goes_in_parts",
          "test_backfill.py::test_objects_over_the_copy_limit_are_copied_in_parts")),
    Rule("replication needs versioning on the destination too",
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html#replication-requirements",
         "moto checks the source only; MiniStack accepts an unversioned destination",
         "PutBucketReplication naming a destination bucket moto holds unversioned: "
         "InvalidRequest \"Destination bucket must have versioning enabled.\"",
         ("test_apply_moto.py", "test_object_lock.py", "test_bucket_settings_aws.py")),
    Rule("a V2 rule (Filter) needs Priority and DeleteMarkerReplication; no delete marker "
         "replication with a tag filter",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteMarkerReplication.html, "
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationRule.html",
         "moto stores any rule (and answers DeleteMarkerReplication Disabled); MiniStack "
         "accepts a tag filter with DeleteMarkerReplication Enabled",
         "PutBucketReplication: a rule with Filter but no Priority or DeleteMarkerReplication, "
         "or a Tag in its filter with DeleteMarkerReplication Enabled: InvalidRequest",
         ("test_apply_moto.py", "test_object_lock.py", "test_bucket_settings_aws.py")),
    Rule("RTC needs replication metrics, and 15 minutes",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTime.html, "
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ReplicationTimeValue.html",
         "moto accepts RTC without Metrics and any minutes; MiniStack refuses RTC without "
         "Metrics only",
         "PutBucketReplication: ReplicationTime Enabled without Metrics Enabled, or Minutes "
         "other than 15: InvalidRequest",
         ("test_apply_moto.py", "test_object_lock.py", "test_bucket_settings_aws.py")),
    Rule("SSE-KMS objects: SseKmsEncryptedObjects needs a ReplicaKmsKeyID",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_SourceSelectionCriteria.html, "
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html",
         "moto drops SourceSelectionCriteria; MiniStack replicates SSE-KMS objects without it",
         "PutBucketReplication: SseKmsEncryptedObjects Enabled without "
         "EncryptionConfiguration.ReplicaKmsKeyID, or an empty SourceSelectionCriteria: "
         "InvalidRequest",
         ("test_apply_moto.py", "test_object_lock.py")),
    Rule("versioning stays on: not suspended on a replication source or an Object Lock bucket",
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
         "replication-and-other-bucket-configs.html, "
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
         "moto and MiniStack suspend it",
         "PutBucketVersioning Suspended on a bucket moto holds with a replication "
         "configuration or Object Lock: InvalidBucketState",
         ("test_apply_moto.py", "test_object_lock.py", "test_bucket_settings_aws.py")),
    Rule("a Batch Replication job runs in its source bucket's Region, its generated manifest "
         "stays there, and a manifest of a versioned bucket names version ids",
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html",
         "moto and MiniStack have no Batch Operations (the tests stub CreateJob)",
         "CreateJob (before the Stubber answers): an S3JobManifestGenerator SourceBucket or "
         "ManifestOutputLocation in another Region than the client's, or a CSV manifest "
         "without the VersionId field: InvalidRequest",
         ("test_backfill.py::test_batch_starts_one_job_per_source_bucket",
          "test_inventory_unit.py::test_a_job_over_exactly_the_manifests_objects",
          "test_restore_inventory_unit.py")),
    Rule("BlockedEncryptionTypes is returned by GetBucketEncryption",
         "https://docs.aws.amazon.com/AmazonS3/latest/API/API_BlockedEncryptionTypes.html",
         "moto stores it and drops it from the answer; MiniStack stores it, does not enforce it",
         "tests/moto_fidelity.py answers it from what moto stored",
         ("test_bucket_settings_aws.py",)),
    Rule("Object Lock needs versioning",
         "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
         "moto enforces it itself (InvalidBucketState); nothing to add",
         "moto", ("test_aws_rules.py::test_moto_itself_refuses_object_lock_without_versioning",)),
)


def refuse(code: str, message: str, operation: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def _bucket(name: str) -> Any:
    """moto's bucket of that name, in whichever account holds it; None when none does."""
    from moto.s3.models import s3_backends

    where = s3_backends.bucket_accounts.get(name)
    if where is None:
        return None
    partition, account = where
    return s3_backends[account][partition].buckets.get(name)


def _source(params: dict[str, Any]) -> tuple[str, str, str | None]:
    """CopySource (a dict, or the string botocore makes of it) as bucket, key, version id."""
    source = params["CopySource"]
    if isinstance(source, dict):
        return source["Bucket"], source["Key"], source.get("VersionId")
    path, _, query = str(source).partition("?")
    bucket, _, key = urllib.parse.unquote(path.lstrip("/")).partition("/")
    version = urllib.parse.parse_qs(query).get("versionId", [None])[0]
    return bucket, key, version


def _stored(bucket: Any, key: str, version: str | None) -> Any:
    """moto's FakeKey of that version (the current one without a version id), or None."""
    versions = bucket.keys.getlist(key, []) if bucket is not None else []
    if version is None:
        return versions[-1] if versions else None
    return next((v for v in versions if str(getattr(v, "version_id", "")) == version), None)


def _copy(params: dict[str, Any], operation: str) -> None:
    bucket_name, key, version = _source(params)
    bucket = _bucket(bucket_name)
    found = _stored(bucket, key, version)
    if operation == "UploadPartCopy":
        first, _, last = params.get("CopySourceRange", "bytes=0-0")[6:].partition("-")
        if int(last) - int(first) + 1 > MAX_COPY_BYTES:
            raise refuse("InvalidRequest", "The specified copy range is larger than the "
                         f"maximum allowable size for a copy part: {MAX_COPY_BYTES}", operation)
        return
    if found is not None and getattr(found, "size", 0) > MAX_COPY_BYTES:
        raise refuse("InvalidRequest", "The specified copy source is larger than the maximum "
                     f"allowable size for a copy source: {MAX_COPY_BYTES}", operation)
    same = (bucket_name, key) == (params["Bucket"], params["Key"])
    current = _stored(bucket, key, None)
    noncurrent = version is not None and current is not None and str(
        getattr(current, "version_id", "")) != version
    changed = params.get("MetadataDirective") == "REPLACE" or any(
        params.get(name) for name in CHANGES)
    if same and not noncurrent and not changed:
        raise refuse("InvalidRequest", SELF_COPY, operation)


def _rule_problem(rule: dict[str, Any]) -> str | None:
    destination = rule.get("Destination", {})
    if "Filter" in rule and ("Priority" not in rule or "DeleteMarkerReplication" not in rule):
        return ("Priority and DeleteMarkerReplication must be specified for this version of "
                "Cross Region Replication configuration schema")
    selection = rule.get("Filter", {})
    tagged = "Tag" in selection or bool(selection.get("And", {}).get("Tags"))
    if tagged and rule.get("DeleteMarkerReplication", {}).get("Status") == "Enabled":
        return "DeleteMarkerReplication cannot be Enabled for a rule with a Tag filter"
    rtc = destination.get("ReplicationTime", {})
    metrics = destination.get("Metrics", {})
    if rtc.get("Status") == "Enabled" and metrics.get("Status") != "Enabled":
        return "ReplicationTime must be specified together with a Metrics block"
    minutes = [rtc.get("Time", {}).get("Minutes"), metrics.get("EventThreshold", {}).get("Minutes")]
    if any(m is not None and m != 15 for m in minutes):
        return "Minutes must be 15"
    kms = rule.get("SourceSelectionCriteria", {}).get("SseKmsEncryptedObjects", {})
    replica_key = destination.get("EncryptionConfiguration", {}).get("ReplicaKmsKeyID")
    if "SourceSelectionCriteria" in rule and not rule["SourceSelectionCriteria"]:
        return "SourceSelectionCriteria must not be empty"
    if kms.get("Status") == "Enabled" and not replica_key:
        return "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present."
    target = _bucket(str(destination.get("Bucket", "")).rsplit(":", 1)[-1])
    if target is not None and not target.is_versioned:
        return "Destination bucket must have versioning enabled."
    return None


def _replication(params: dict[str, Any], operation: str) -> None:
    for rule in params["ReplicationConfiguration"].get("Rules", []):
        problem = _rule_problem(rule)
        if problem:
            raise refuse("InvalidRequest", f"rule {rule.get('ID')!r}: {problem}", operation)


def _versioning(params: dict[str, Any], operation: str) -> None:
    bucket = _bucket(params["Bucket"])
    if bucket is None or params["VersioningConfiguration"].get("Status") != "Suspended":
        return
    if bucket.object_lock_enabled:
        raise refuse("InvalidBucketState", "An Object Lock configuration is present on this "
                     "bucket, so the versioning state cannot be changed.", operation, 409)
    if getattr(bucket, "replication", None):
        raise refuse("InvalidBucketState", "A replication configuration is present on this "
                     "bucket, so the versioning state cannot be changed.", operation, 409)


def _create_job(params: dict[str, Any], operation: str, region: str) -> None:
    generator = params.get("ManifestGenerator", {}).get("S3JobManifestGenerator", {})
    places = [generator.get("SourceBucket"),
              generator.get("ManifestOutputLocation", {}).get("Bucket")]
    for arn in filter(None, places):
        bucket = _bucket(str(arn).rsplit(":", 1)[-1])
        if bucket is not None and bucket.region_name != region:
            raise refuse("InvalidRequest", f"{arn} is in {bucket.region_name}, not in the "
                         f"job's Region {region}", operation)
    spec = params.get("Manifest", {}).get("Spec", {})
    if spec.get("Format") == "S3BatchOperations_CSV_20180820" and "VersionId" not in spec.get(
            "Fields", []):
        raise refuse("InvalidRequest", "a manifest of a versioned bucket must name version "
                     "ids (Fields: Bucket, Key, VersionId)", operation)


CHECKS = {"CopyObject": _copy, "UploadPartCopy": _copy,
          "PutBucketReplication": _replication, "PutBucketVersioning": _versioning}


def check_call(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """botocore `before-parameter-build`: refuse a call that breaks one of RULES."""
    if model.name == "CreateJob":
        _create_job(params, model.name, context.get("client_region", ""))
    elif model.name in CHECKS:
        CHECKS[model.name](params, model.name)


def enforce(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every botocore session made from now on (so every client of the test) runs check_call
    on the calls it checks."""
    events = [f"before-parameter-build.s3.{name}" for name in CHECKS]
    events.append("before-parameter-build.s3-control.CreateJob")
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [
        *botocore.handlers.BUILTIN_HANDLERS, *[(event, check_call) for event in events]])
