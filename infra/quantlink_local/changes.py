"""What an answered write changed in moto's backends, as journal records (journal.py), and how a
restarting server puts them back on top of the last snapshot (persistence.py).

A record is an after-image, read under the backend lock when the change is done, so replaying the
records in order gives the state as it was at the last one, whatever came between:
- ("item", account, region, table, hash key, range key, item or None): a DynamoDB item as the
  write left it, or its deletion (one per key a PutItem, UpdateItem, DeleteItem, BatchWriteItem or
  TransactWriteItems names; the keys of one request are in one frame, so a transaction is whole);
- ("table", account, region, name, pickled table without its items, or None): a table-level
  operation (CreateTable, UpdateTable, UpdateTimeToLive, tags...): the table's definition, its
  items kept, or its deletion;
- ("messages", account, region, queue, put, drop, deleted, pending, last purged): what an SQS
  message operation changed in one queue: the messages it added or changed (a message is all its
  state: body, attributes, FIFO group and deduplication ids, sequence number, receipt handles old
  and new, receive count, visibility deadline), the ids of those it removed, the receipt handles it
  retired (deleting twice is no error), the in-flight messages (which hold their FIFO groups), and
  the purge time;
- ("queue", account, region, name, queue or None): a queue-level operation, the whole queue;
- ("service", service, {account: {region: backend}}): every backend of a rarely written service
  (Cognito, S3, SES, SESv2), and of SQS when queues refer to each other (dead-letter queues)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from quantlink_local.statefile import StateError, dumps, loads

Record = tuple[Any, ...]
Touched = set[tuple[Any, ...]]  # what persistence.py's next snapshot rewrites: ("dynamodb", table, bucket), ("sqs", q)

# SQS backend methods that change messages of one queue (its `queue_name`), and those that change a queue itself
MESSAGE_OPERATIONS = frozenset({"send_message", "send_message_batch", "receive_message", "delete_message",
                                "delete_message_batch", "change_message_visibility",
                                "change_message_visibility_batch", "purge_queue"})  # fmt: skip
QUEUE_OPERATIONS = frozenset({"create_queue", "delete_queue", "set_queue_attributes", "add_permission",
                              "remove_permission", "tag_queue", "untag_queue"})  # fmt: skip
SQS_READS = frozenset({"get_queue_url", "list_queues", "get_queue", "get_queue_attributes",
                       "list_dead_letter_source_queues", "list_queue_tags",
                       "is_message_valid_based_on_retention_period", "iter_tagged_resources"})  # fmt: skip


def _dynamodb_tables() -> list[tuple[str, str, Any]]:
    from moto.dynamodb.models import dynamodb_backends

    return list(dynamodb_backends.iter_backends())  # type: ignore[arg-type]


def find_table(name: str) -> tuple[str, str, Any] | None:
    """(account, region, table) of the table called `name` (the local stack has one account and region)."""
    for account, region, backend in _dynamodb_tables():
        table = backend.tables.get(name)
        if table is not None:
            return account, region, table
    return None


def item_records(writes: list[tuple[str, dict[str, Any]]]) -> list[Record]:
    """After-images of the items of `writes` ((table, key as in the request)), as they are now."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    records: list[Record] = []
    seen: set[tuple[Any, ...]] = set()
    for name, key in writes:
        found = find_table(name)
        if found is None:
            continue  # the request failed (no such table): it changed nothing
        account, region, table = found
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        identity = (name, hash_key.type, str(hash_key.value), range_key and (range_key.type, str(range_key.value)))
        if identity in seen:
            continue
        seen.add(identity)
        stored = table.items.get(hash_key)
        item = stored if range_key is None else (stored.get(range_key) if stored is not None else None)
        records.append(("item", account, region, name, hash_key, range_key, item))
    return records


def table_record(name: str) -> list[Record]:
    """The definition of table `name` (without its items), or its deletion."""
    from moto.dynamodb.models import dynamodb_backends

    found = find_table(name)
    if found is None:  # deleted (or never made): gone from every backend
        return [("table", account, region, name, None) for account, region, _ in dynamodb_backends.iter_backends()]
    account, region, table = found
    items, table.items = table.items, None
    try:
        image = bytes(dumps(table))
    finally:
        table.items = items
    return [("table", account, region, name, image)]


def service_record(service: str) -> list[Record]:
    from moto.backends import get_backend

    backends = get_backend(service)  # type: ignore[call-overload]
    return [("service", service, {account: dict(regions) for account, regions in dict.items(backends)})]


def queue_record(backend: Any, name: str) -> list[Record]:
    queue = backend.queues.get(name)
    if _linked(backend):
        return [("service", "sqs", {backend.account_id: {backend.region_name: backend}})]
    return [("queue", backend.account_id, backend.region_name, name, queue)]


def _linked(backend: Any) -> bool:
    """Queues that refer to each other (a dead-letter queue) are journaled together, whole."""
    return any(queue.dead_letter_queue is not None for queue in backend.queues.values())


MessageState = tuple[list[tuple[Any, Any, Any]], set[str], Any]  # (message, handle, deadline)s, in flight, purged


def messages_before(backend: Any, name: str) -> MessageState | None:
    queue = backend.queues.get(name)
    if queue is None:
        return None
    messages = [(m, m.receipt_handle, m.visible_at) for m in queue._messages]
    return messages, {m.id for m in queue._pending_messages}, queue.last_purged_at


def messages_record(backend: Any, name: str, before: MessageState | None) -> list[Record]:
    """What a message operation changed in queue `name` since `before` (messages_before); nothing
    for one that changed nothing (an empty long-poll)."""
    queue = backend.queues.get(name)
    if queue is None or before is None:
        return [] if queue is None else queue_record(backend, name)
    if _linked(backend):
        return queue_record(backend, name)
    messages, was_pending, was_purged = before
    was = {id(m): (handle, visible_at) for m, handle, visible_at in messages}
    now = {id(m) for m in queue._messages}
    put = [m for m in queue._messages if was.get(id(m)) != (m.receipt_handle, m.visible_at)]  # new or changed
    removed = [m for m, _, _ in messages if id(m) not in now]
    deleted = [h for m in removed if m.receipt_handle in queue.deleted_messages for h in m.all_receipt_handles]
    pending = {m.id for m in queue._pending_messages}
    if not put and not removed and pending == was_pending and queue.last_purged_at == was_purged:
        return []
    return [("messages", backend.account_id, backend.region_name, name, put, [m.id for m in removed], deleted,
             sorted(pending), queue.last_purged_at)]  # fmt: skip


def touched_by_records(records: list[Record], bucket_of: Callable[[Any, Any], int | None]) -> Touched | None:
    """What the next snapshot must rewrite for these records (None: everything)."""
    touched: Touched = set()
    for record in records:
        kind = record[0]
        if kind == "item":
            bucket = bucket_of(record[4], record[5])
            if bucket is None:
                return None
            touched.add(("dynamodb", record[3], bucket))
        elif kind in ("messages", "queue"):
            touched.add(("sqs", record[3]))
        elif kind == "table" or (kind == "service" and record[1] in ("sqs", "dynamodb")):
            return None
    return touched


def apply(records: list[Record], where: str) -> None:
    """Put the records back into the backends (a restart's replay, on top of the snapshot)."""
    for record in records:
        _APPLY[record[0]](*record[1:], where=where)


def _table(account: str, region: str, name: str, where: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account][region].tables.get(name)
    if table is None:
        raise StateError(f"{where} is damaged: it changes an item of table {name}, which it does not have.")
    return table


def _apply_item(account: str, region: str, name: str, hash_key: Any, range_key: Any, item: Any, where: str) -> None:
    items = _table(account, region, name, where).items
    if range_key is None:
        if item is None:
            items.pop(hash_key, None)
        else:
            items[hash_key] = item
    elif item is None:
        partition = items.get(hash_key)
        if partition is not None:
            partition.pop(range_key, None)
    else:
        items[hash_key][range_key] = item


def _apply_table(account: str, region: str, name: str, image: bytes | None, where: str) -> None:
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[account][region].tables
    if image is None:
        tables.pop(name, None)
        return
    table = loads(image, where)  # type: ignore[arg-type]
    old = tables.get(name)
    table.items = old.items if old is not None else defaultdict(dict)
    tables[name] = table


def _apply_messages(account: str, region: str, name: str, put: list[Any], drop: list[str], deleted: list[str],
                    pending: list[str], last_purged_at: Any, where: str) -> None:  # fmt: skip
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        raise StateError(f"{where} is damaged: it changes messages of queue {name}, which it does not have.")
    dropped = set(drop)
    messages = [m for m in queue._messages if m.id not in dropped]
    at = {m.id: i for i, m in enumerate(messages)}
    for message in put:
        if message.id in at:
            messages[at[message.id]] = message
        else:
            at[message.id] = len(messages)
            messages.append(message)
    queue._messages = messages
    queue.deleted_messages.update(deleted)
    in_flight = set(pending)
    queue._pending_messages = {m for m in messages if m.id in in_flight}
    queue.last_purged_at = last_purged_at


def _apply_queue(account: str, region: str, name: str, queue: Any, where: str) -> None:
    from moto.sqs.models import sqs_backends

    queues = sqs_backends[account][region].queues
    if queue is None:
        queues.pop(name, None)
    else:
        queues[name] = queue


def _apply_service(service: str, image: dict[str, dict[str, Any]], where: str) -> None:
    from moto.backends import get_backend

    backends = get_backend(service)  # type: ignore[call-overload]
    for account, regions in image.items():
        for region, backend in regions.items():
            dict.__setitem__(backends[account], region, backend)


_APPLY: dict[str, Callable[..., None]] = {"item": _apply_item, "table": _apply_table, "messages": _apply_messages,
                                          "queue": _apply_queue, "service": _apply_service}  # fmt: skip
