"""What a function builds once per execution environment (cold start): its settings, validated from
the environment, the store over its table and the terminal queues. Clients inside them are built on
first use. Each handler module caches one Runtime (`@cache def runtime()`), so a fresh import of the
module, as the local gateway and the integration tier make, is a fresh cold start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from quantlink.dal.queues import TerminalQueues
from quantlink.dal.store import DynamoStore
from quantlink.settings import FunctionSettings

_S = TypeVar("_S", bound=FunctionSettings)


class Runtime(Generic[_S]):
    # A plain class, not a dataclass: it is built on every cold start's import path (generating a
    # dataclass's methods costs about a millisecond there).
    __slots__ = ("queues", "settings", "store")

    def __init__(self, settings: _S, store: DynamoStore, queues: TerminalQueues) -> None:
        self.settings = settings
        self.store = store
        self.queues = queues

    @classmethod
    def load(cls, settings_model: type[_S], environ: Mapping[str, str]) -> Runtime[_S]:
        settings = settings_model.from_environ(environ)
        return cls(settings, DynamoStore.for_table(settings.table_name), TerminalQueues(settings.queue_name_prefix))
