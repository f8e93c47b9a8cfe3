"""`permissions`: the shape and limits of the printed policies, their scope, the README's list
made from the same table, and the accesses MiniStack does not check, evaluated against the
policies by MiniStack's IAM policy evaluator (a library here, no server)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ministack.core.iam_evaluator import EvalContext, evaluate, parse_policy_document

from s3replication.commands import caller_policies, permissions_readme
from s3replication.commands.permission_needs import NEEDS
from s3replication.config import load_config
from tests.shop import run_script, shop_config

ACCOUNT = "123456789012"  # moto's
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference"
# Actions the Service Authorization Reference lists with no resource type: a policy must name
# "*" for them. Each page is the service's "Actions defined by ..." table.
WITHOUT_RESOURCE_TYPE = {
    "s3:ListAllMyBuckets": f"{SAR}/list_amazons3.html",
    "s3:CreateJob": f"{SAR}/list_amazons3.html",
    "kms:ListAliases": f"{SAR}/list_awskeymanagementservice.html",
    "kms:ListKeys": f"{SAR}/list_awskeymanagementservice.html",
    "kms:CreateKey": f"{SAR}/list_awskeymanagementservice.html",
    "cloudwatch:GetMetricData": f"{SAR}/list_amazoncloudwatch.html",
    "sns:Unsubscribe": f"{SAR}/list_amazonsns.html",
}


def printed(tmp_path: Path, moto_clients, kind: str = "crr", extra: str = "",
            *flags: str) -> dict:
    config = shop_config(tmp_path, extra)
    run = run_script(kind, "permissions", "--config", str(config), *flags,
                     clients=lambda: moto_clients)
    assert run.status == 0, run.stderr
    assert run.stderr == ""
    return json.loads(run.stdout)  # stdout holds the JSON and nothing else


def statements_of(found: dict) -> list[dict]:
    return [s for docs in found.values() for d in docs for s in d["Statement"]]


def listed(value: object) -> list[str]:
    return value if isinstance(value, list) else [value]  # type: ignore[return-value]


def test_the_output_is_one_json_object_of_account_to_documents(tmp_path, moto_clients) -> None:
    for kind in ("crr", "srr"):
        found = printed(tmp_path, moto_clients, kind)
        assert list(found) == [ACCOUNT]
        for document in found[ACCOUNT]:
            assert set(document) == {"Version", "Statement"}
            assert document["Version"] == "2012-10-17"
            for statement in document["Statement"]:
                assert statement["Effect"] == "Allow"
                assert {"Sid", "Effect", "Action", "Resource"} <= set(statement)
        assert printed(tmp_path, moto_clients, kind, "", "--json") == found


def test_no_wildcard_action_and_no_service_wildcard(tmp_path, moto_clients) -> None:
    for statement in statements_of(printed(tmp_path, moto_clients)):
        for action in listed(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), action  # no "*" anywhere


def test_resource_star_only_for_actions_without_a_resource_type(tmp_path, moto_clients) -> None:
    """Every other statement names the config's own resources."""
    config = load_config(shop_config(tmp_path))
    names = list(config.buckets)
    for statement in statements_of(printed(tmp_path, moto_clients)):
        resources = listed(statement["Resource"])
        if "*" in resources:
            assert resources == ["*"]
            assert set(listed(statement["Action"])) <= set(WITHOUT_RESOURCE_TYPE), statement
            continue
        for arn in resources:
            assert arn.startswith("arn:aws:"), arn
            assert ":*" not in arn.split("/")[0] or arn.endswith(":alarm:s3-replication:*"), arn
            if arn.startswith("arn:aws:s3:::"):
                assert arn.removeprefix("arn:aws:s3:::").split("/")[0] in names, arn
            elif ":iam::" in arn or ":sns:" in arn or ":kms:" in arn:
                assert f":{ACCOUNT}:" in arn, arn


def test_each_document_fits_a_managed_policy_and_a_large_config_is_split(
        tmp_path, moto_clients) -> None:
    """AWS: a managed policy holds at most 6,144 characters, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    many = "\n".join(
        [f"BUCKETS['shopco-many-{n:03d}-source-bucket'] = {{'region': 'us-east-1', "
         f"'kms_key': 'alias/shopco-use1'}}" for n in range(100)]
        + [f"BUCKETS['shopco-many-{n:03d}-replica-bucket'] = {{'region': 'us-west-2', "
           f"'kms_key': 'alias/shopco-usw2'}}" for n in range(100)]
        + [f"CRR_RULES.append({{'id': 'many-{n:03d}', 'source': 'shopco-many-{n:03d}-source-"
           f"bucket', 'destination': 'shopco-many-{n:03d}-replica-bucket'}})"
           for n in range(100)])
    small = printed(tmp_path, moto_clients)[ACCOUNT]
    large = printed(tmp_path, moto_clients, "crr", many)[ACCOUNT]
    assert len(large) > len(small) >= 1
    for document in small + large:
        text = json.dumps(document)
        assert len(re.sub(r"\s", "", text)) <= 6144
    # split, not lost: every bucket's objects are still granted, once
    objects = [arn for d in large for s in d["Statement"] for arn in listed(s["Resource"])
               if arn.endswith("-source-bucket/*")]
    assert len(objects) == len(set(objects)) == 100
    sids = [s["Sid"] for d in large for s in d["Statement"]]
    for document in large:
        ids = [s["Sid"] for s in document["Statement"]]
        assert len(ids) == len(set(ids))
    assert len(sids) == len(set(sids))


def test_the_readme_list_is_generated_from_the_table() -> None:
    readme = permissions_readme.README.read_text()
    start, end = readme.index(permissions_readme.START), readme.index(permissions_readme.END)
    assert readme[start:end + len(permissions_readme.END)] == permissions_readme.readme_list(), (
        "README.md is out of date: run `make readme-permissions`")
    for action in {n.action for n in NEEDS}:
        assert f"`{action}`" in permissions_readme.readme_list()


def test_troubleshooting_names_the_iam_action_not_the_api_call() -> None:
    """The API call PutBucketReplication is authorized as s3:PutReplicationConfiguration
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html)."""
    readme = permissions_readme.README.read_text()
    troubleshooting = readme[readme.index("## Troubleshooting"):]
    assert "s3:PutReplicationConfiguration" in troubleshooting
    assert "s3:PutBucketReplication" not in readme


# -- accesses MiniStack does not check, each as AWS documents it ----------------------------

def _allowed(documents: list[dict], action: str, resource: str, region: str = "us-east-1",
             **context: str) -> bool:
    parsed = [parse_policy_document(d) for d in documents]
    ctx = EvalContext(principal_arn=f"arn:aws:iam::{ACCOUNT}:user/caller",
                      principal_type="User", principal_account=ACCOUNT, action=action,
                      resource_arn=resource, region=region,
                      service_context={k.lower(): v for k, v in context.items()})
    return evaluate(ctx, parsed).decision == "Allow"


@pytest.fixture
def documents(tmp_path: Path) -> list[dict]:
    return caller_policies.policies(load_config(shop_config(tmp_path)), ACCOUNT)[ACCOUNT]


ROLE = f"arn:aws:iam::{ACCOUNT}:role/shopco-data-use1-replication"
BATCH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/shopco-data-use1-replication-batch"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALARM = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:s3-replication:catalog-usw2:latency"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:shopco-replication-alerts"
OBJECT = "arn:aws:s3:::shopco-data-use1/catalog/item.json"
JOB = f"arn:aws:s3:us-east-1:{ACCOUNT}:job/f8b2c3d4"
DOCUMENTED = [
    # (action, resource, condition keys, AWS page)
    ("iam:PassRole", ROLE, {"iam:PassedToService": "s3.amazonaws.com"},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"),
    ("iam:PassRole", BATCH_ROLE, {"iam:PassedToService": "batchoperations.s3.amazonaws.com"},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html"),
    ("kms:GenerateDataKey", KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"),
    ("kms:Decrypt", KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"),
    ("kms:TagResource", KEY, {},
     "https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html"),
    ("iam:TagRole", ROLE, {}, "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html"),
    ("cloudwatch:TagResource", ALARM, {},
     "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"),
    ("sns:TagResource", TOPIC, {},
     "https://docs.aws.amazon.com/sns/latest/dg/sns-tags-configuring.html"),
    ("s3:PutObjectTagging", OBJECT, {},
     "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html"),
    ("s3:CreateJob", "*", {},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html"),
    ("s3:PutJobTagging", JOB, {},
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-job-tags.html"),
    ("s3:DescribeJob", JOB, {},
     "https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_DescribeJob.html"),
]


@pytest.mark.parametrize(("action", "resource", "context", "page"), DOCUMENTED,
                         ids=[f"{a} {r.rsplit(':', 1)[-1]}" for a, r, _, _ in DOCUMENTED])
def test_documented_accesses_are_allowed(documents, action, resource, context, page) -> None:
    assert _allowed(documents, action, resource, **context), f"{action} on {resource} ({page})"


@pytest.mark.parametrize(("action", "resource", "context"), [
    ("iam:PassRole", ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {"iam:PassedToService":
                                                             "s3.amazonaws.com"}),
    ("kms:Decrypt", KEY, {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}),
    ("kms:Decrypt", KEY, {}),
    ("kms:GenerateDataKey", "arn:aws:kms:us-east-1:999999999999:key/x",
     {"kms:ViaService": "s3.us-east-1.amazonaws.com"}),
    ("s3:PutObject", "arn:aws:s3:::someone-elses-bucket/x", {}),
    ("s3:DeleteObjectVersion", "arn:aws:s3:::someone-elses-bucket/x", {}),
    ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:prod-cpu", {}),
    ("sns:DeleteTopic", f"arn:aws:sns:us-east-1:{ACCOUNT}:orders", {}),
    ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {}),
])
def test_accesses_outside_the_config_are_denied(documents, action, resource, context) -> None:
    assert not _allowed(documents, action, resource, **context)


def test_a_key_given_by_arn_is_named_by_its_arn(tmp_path) -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f0f0f0f-0000-4000-8000-000000000001"
    extra = f"BUCKETS['shopco-logs-use1']['kms_key'] = {key!r}\n"
    found = caller_policies.policies(load_config(shop_config(tmp_path, extra)), ACCOUNT)[ACCOUNT]
    keys = {arn for d in found for s in d["Statement"] for arn in listed(s["Resource"])
            if ":kms:" in arn}
    assert key in keys
    assert f"arn:aws:kms:us-west-2:{ACCOUNT}:key/*" in keys  # an alias: any key of its Region


def test_arns_use_the_configs_partition(tmp_path) -> None:
    """ARNs of aws-cn Regions begin arn:aws-cn, and S3 is reached there at
    s3.REGION.amazonaws.com.cn
    (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html)."""
    config = tmp_path / "cn_config.py"
    config.write_text(
        "BUCKETS = {'shopco-cn-a': {'region': 'cn-north-1', 'kms_key': 'alias/shopco'},\n"
        "           'shopco-cn-b': {'region': 'cn-northwest-1', 'kms_key': 'alias/shopco'}}\n"
        "CRR_RULES = [{'id': 'r', 'source': 'shopco-cn-a', 'destination': 'shopco-cn-b'}]\n"
        "SRR_RULES = []\n"
        f"LOG_FILE = {str(tmp_path / 'log.txt')!r}\n")
    found = caller_policies.policies(load_config(config), ACCOUNT)[ACCOUNT]
    arns = [arn for d in found for s in d["Statement"] for arn in listed(s["Resource"])
            if arn != "*"]
    assert arns and all(arn.startswith("arn:aws-cn:") for arn in arns), arns
    hosts = [s["Condition"]["StringEquals"]["kms:ViaService"] for d in found
             for s in d["Statement"] if "kms:ViaService" in json.dumps(s)]
    assert hosts == [["s3.cn-north-1.amazonaws.com.cn", "s3.cn-northwest-1.amazonaws.com.cn"]]


ATHENA_GLUE = "https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html"


def test_athena_gets_the_glue_default_database_and_catalog_in_each_region(tmp_path) -> None:
    """Athena's guide: the access policy to the `default` database and the catalog, for
    GetDatabase and CreateDatabase, "is required for Athena and the AWS Glue Data Catalog to
    work together", one for each Region (ATHENA_GLUE). The audit runs Athena in each report
    bucket's Region; nothing else of `default` is granted."""
    extra = ("INVENTORY = {'buckets': {'us-east-1': 'shopco-inventory-use1', "
             "'us-west-2': 'shopco-inventory-usw2', 'eu-west-1': 'shopco-inventory-euw1'}}\n")
    found = caller_policies.policies(load_config(shop_config(tmp_path, extra)), ACCOUNT)[ACCOUNT]
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        glue = f"arn:aws:glue:{region}:{ACCOUNT}"
        for action in ("glue:GetDatabase", "glue:CreateDatabase"):
            for resource in (f"{glue}:catalog", f"{glue}:database/default"):
                assert _allowed(found, action, resource, region), (
                    f"{action} on {resource} ({ATHENA_GLUE})")
        for action in ("glue:DeleteTable", "glue:CreateTable", "glue:DeleteDatabase"):
            assert not _allowed(found, action, f"{glue}:database/default", region), action
            assert not _allowed(found, action, f"{glue}:table/default/orders", region), action
    # without INVENTORY there is no audit by Athena, and no Glue at all
    plain = caller_policies.policies(load_config(shop_config(tmp_path)), ACCOUNT)[ACCOUNT]
    assert "glue:" not in json.dumps(plain)


def test_alarms_and_topics_are_granted_in_a_destinations_region_of_another_account(
        tmp_path) -> None:
    """A rule's latency and backlog alarms live in its destination's Region, with an alert
    topic there for their action (S3 publishes those metrics in the destination's Region:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html); they are the
    caller's even when the destination bucket is another account's, in a Region where the
    caller has no bucket."""
    backup = "222222222222"
    config = tmp_path / "vault_config.py"
    config.write_text(
        f"ACCOUNTS = {{'backup': {{'account_id': '{backup}', "
        f"'role_arn': 'arn:aws:iam::{backup}:role/admin'}}}}\n"
        "BUCKETS = {'shopco-orders-use1': {'region': 'us-east-1', 'kms_key': None},\n"
        "           'shopco-orders-vault': {'region': 'eu-west-1', 'kms_key': None,\n"
        "                                   'account': 'backup'}}\n"
        "CRR_RULES = [{'id': 'vault', 'source': 'shopco-orders-use1',\n"
        "              'destination': 'shopco-orders-vault'}]\n"
        "SRR_RULES = []\n"
        "MONITORING = {'sns_topic': 'shopco-alerts'}\n"
        f"LOG_FILE = {str(tmp_path / 'log.txt')!r}\n")
    found = caller_policies.policies(load_config(config), ACCOUNT)[ACCOUNT]
    alarm = (f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:"
             "s3-replication:shopco-orders-use1:vault:latency")
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:shopco-alerts"
    for action, resource in (("cloudwatch:PutMetricAlarm", alarm),
                             ("cloudwatch:DescribeAlarms", alarm),
                             ("cloudwatch:DeleteAlarms", alarm), ("sns:CreateTopic", topic),
                             ("sns:Subscribe", topic), ("sns:DeleteTopic", topic)):
        assert _allowed(found, action, resource, region="eu-west-1"), (action, resource)
