"""Read ahead: the reads the last `plan` or `apply` made, made again at once as the next starts.

At real API latency a run's time is set by its longest chain of calls that wait for one
another: the engine's stages, one after the other, and a lane's items, in turn. The reads of a
run are much the same from one run to the next, so each run keeps their list next to its log
file (service, Region, account, operation, parameters: never an answer), and the next run
sends them all in the background as it starts, while it asks STS who it is. When the run then
comes to one of those reads, it takes the answer already there (or on its way) instead of
waiting its turn in the chain. A run that changes nothing thus waits about one round trip for
all its reads instead of one per link of its chain.

What makes it safe:
- only reads of settings go ahead (Get, List, Describe, Head of buckets, roles, keys, alarms,
  topics...): never an object, never a page after the first (`recorded`);
- an answer read ahead is used at most as many times as the last run asked for it, and only
  when no write of this run to the same resource came in between (S3: the same bucket; IAM:
  the same role; any other service: any write to it); otherwise the read is sent again;
- a read ahead that fails to get an answer (network, a retry still waiting) is sent again in
  its turn; an answer AWS gave (NoSuchBucket, AccessDenied) is an answer like any other;
- so the run sees what it would have seen reading at the moment it started, except for what
  it wrote itself, which it reads again.
The list is a hint: without it (the first run) or with a stale one a run is just slower.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

log = logging.getLogger(__name__)

READ_VERBS = ("Get", "List", "Describe", "Head")
NOT_RECORDED = frozenset({  # objects and polls: their answers change under the run's feet
    "GetObject", "HeadObject", "GetObjectTagging", "GetObjectAcl", "GetObjectAttributes",
    "GetObjectRetention", "GetObjectLegalHold", "ListObjects", "ListObjectsV2",
    "ListObjectVersions", "ListMultipartUploads", "ListParts", "GetCallerIdentity",
    "DescribeMultiRegionAccessPointOperation", "GetMetricData", "GetMetricStatistics",
})
PAGE_TOKENS = frozenset({"Marker", "NextToken", "ContinuationToken", "KeyMarker",
                         "VersionIdMarker", "StartAfter", "UploadIdMarker"})
RESOURCE_PARAMETER = {"s3": "Bucket", "iam": "RoleName"}  # other services: the whole service
WORKERS = 64
THREAD_PREFIX = "s3replication-ahead"
Key = tuple[str, str, str, str, str]  # account label ("" for the caller's), service, Region,
#                                       operation, parameters as canonical JSON


def recorded(operation: str, params: dict[str, Any]) -> bool:
    """Whether a call of `operation` with `params` is a read that may go ahead."""
    return (operation.startswith(READ_VERBS) and operation not in NOT_RECORDED
            and not PAGE_TOKENS & params.keys())


def key_of(label: str, service: str, region: str, operation: str,
           params: dict[str, Any]) -> Key | None:
    try:
        return (label, service, region, operation, json.dumps(params, sort_keys=True))
    except (TypeError, ValueError):  # bytes, streams: not a read of settings
        return None


class _Body:
    """The raw body of an answer read ahead, as urllib3 would stream it."""

    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


Answer = tuple[int, dict[str, str], bytes]  # an HTTP answer: status, headers, body
_local = threading.local()  # per thread: the read being asked (main) or the answer (ahead)


def _answer(call: Any) -> Answer:
    """The HTTP answer to a read sent ahead, AWS's error answers included (botocore parses it
    again, with every handler, when the run asks for it)."""
    from botocore.exceptions import ClientError

    _local.answer = None
    try:
        call()
    except ClientError:
        pass
    answer: Answer | None = _local.answer
    if answer is None or answer[0] >= 500 or answer[0] == 429:  # throttled or a 5xx: not an
        raise LookupError("no answer to keep")                  # answer; asked again in turn
    return answer


class ReadAhead:
    """The reads of one run: those sent ahead from the last run's list, and those made now."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._ahead: dict[Key, Future[Answer]] = {}
        self._uses: dict[Key, int] = {}  # how many times the last run asked each read
        self._made: dict[Key, int] = {}  # this run's: in the order first made, how many times
        self._pool: ThreadPoolExecutor | None = None
        self.served = 0

    @staticmethod
    def in_background() -> bool:
        return threading.current_thread().name.startswith(THREAD_PREFIX)

    def listed(self) -> dict[Key, int]:
        """The last run's reads, each with how many times it was asked; none when there is
        no readable list."""
        try:
            entries = json.loads(self.path.read_text())
            return {(str(e[0]), str(e[1]), str(e[2]), str(e[3]), str(e[4])): max(1, int(e[5]))
                    for e in entries}
        except (OSError, ValueError, TypeError, IndexError, KeyError):
            return {}

    def start(self, send: Any) -> None:
        """Send every listed read in the background: `send(key)` makes the call and returns
        its parsed answer (raising ClientError for AWS's error answers)."""
        keys = self.listed()
        if not keys:
            return
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=THREAD_PREFIX)
        with self._lock:
            self._uses = keys
            for key in keys:
                self._ahead[key] = self._pool.submit(_answer, lambda key=key: send(key))
        log.debug("read ahead: %d reads of the last run sent", len(keys))

    def take(self, key: Key, url: str) -> Any:
        """The answer read ahead for `key`, as botocore's AWSResponse, as many times as the last
        run asked for it; None when there is none to use."""
        with self._lock:
            future = self._ahead.get(key)
            uses = self._uses.get(key, 1) - 1
            self._uses[key] = uses
            if future is not None and (uses <= 0 or future.cancel()):
                del self._ahead[key]
        if future is None or future.cancelled():  # not sent yet: sent now, in its turn
            return None
        try:
            status, headers, body = future.result()
        except Exception:  # noqa: BLE001 - no answer came (network...): the read is sent again
            return None
        from botocore.awsrequest import AWSResponse

        with self._lock:
            self.served += 1
        return AWSResponse(url, status, cast(Any, headers), _Body(body))

    def made(self, key: Key) -> None:
        with self._lock:
            self._made[key] = self._made.get(key, 0) + 1

    def wrote(self, label: str, service: str, params: dict[str, Any]) -> None:
        """A write of this run: answers read ahead that it may have changed are dropped."""
        name = RESOURCE_PARAMETER.get(service)
        resource = params.get(name) if name else None
        with self._lock:
            for key in [k for k in self._ahead if _touched(k, label, service, name, resource)]:
                self._ahead.pop(key).cancel()

    def finish(self, keep: bool) -> None:
        """Stop reads ahead nobody asked for; with `keep`, list this run's reads for the next."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if not keep:
            return
        with self._lock:
            listed = [[*key, uses] for key, uses in self._made.items()]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps(listed))
            partial.replace(self.path)
        except OSError as exc:  # a hint only: the next run is slower without it
            log.debug("read ahead: list not kept: %s", exc)
        log.debug("read ahead: %d answers used, %d reads listed", self.served, len(listed))


def _touched(key: Key, label: str, service: str, name: str | None, resource: Any) -> bool:
    if key[1] != service:
        return False
    if name is None:
        return key[0] == label
    if resource is None:  # a write not about one bucket or role: every answer of the service
        return True
    read = json.loads(key[4]).get(name)
    return read is None or read == resource


def attach(client: Any, owner: Any, service: str, region: str) -> None:
    """Make `client` (of the factory `owner`, whose `read_ahead` and `label` it reads at each
    call) take answers read ahead, list the reads it makes, and report its writes."""

    def asked(params: dict[str, Any], model: Any, **_: Any) -> None:
        ahead: ReadAhead | None = owner.read_ahead
        _local.key = None
        if ahead is None or ReadAhead.in_background():
            return
        if recorded(model.name, params):
            _local.key = key_of(owner.label, service, region, model.name, params)
            if _local.key is not None:
                ahead.made(_local.key)
        elif not model.name.startswith(READ_VERBS):
            ahead.wrote(owner.label, service, params)

    def sending(request: Any, **_: Any) -> Any:  # the first attempt of a read: answered ahead?
        ahead: ReadAhead | None = owner.read_ahead
        key, _local.key = getattr(_local, "key", None), None
        return ahead.take(key, request.url) if ahead is not None and key is not None else None

    def answered(http_response: Any, **_: Any) -> None:  # a read sent ahead: its answer
        if ReadAhead.in_background():
            _local.answer = (http_response.status_code, dict(http_response.headers),
                             http_response.content)

    # first: the parameters as the caller gave them; the answer before anything is sent
    client.meta.events.register_first("before-parameter-build", asked)
    client.meta.events.register_first("before-send", sending)
    client.meta.events.register("after-call", answered)


def begin(clients: Any, config: Any, script: str) -> ReadAhead:
    """Start the run's reads ahead (the list next to the log file) on `clients`, which then
    serve them; `finish` ends it."""
    from botocore import xform_name

    from .naming import global_region

    ahead = ReadAhead(config.log_file.parent / f".read-ahead-{script}.json")
    sts_region = global_region(config.region_of_partition)

    def send(key: Key) -> Any:
        label, service, region, operation, params = key
        factory = clients.for_account(config.accounts[label], sts_region) if label else clients
        client = factory.get(service, region)
        return getattr(client, xform_name(operation))(**json.loads(params))

    clients.read_ahead = ahead
    # the run's first call (Clients.account_id) is made while the reads go: its client first,
    # since clients are made one at a time
    clients.single_attempt("sts", sts_region)
    ahead.start(send)
    return ahead
