"""Every store over the one table, as one object: what a function builds once (quantlink.runtime) and
hands to the relay and the owner operations, which see it only through the Protocols of dal/ports.py.

Each store is a small class of its own module (one aggregate each), and their method names are unique
across stores, so one object can be all of them; the table's layout is in dal/keys.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantlink.dal.audit import DynamoAuditStore
from quantlink.dal.bundles import DynamoBundleStore
from quantlink.dal.deliveries import DynamoDeliveryStore
from quantlink.dal.drift import DynamoDriftStore
from quantlink.dal.due import DynamoDueStore
from quantlink.dal.groups import DynamoGroupStore
from quantlink.dal.invitations import DynamoInvitationStore
from quantlink.dal.positions import DynamoPositionStore
from quantlink.dal.shares import DynamoShareStore
from quantlink.dal.signals import DynamoSignalStore
from quantlink.dal.strategies import DynamoStrategyStore
from quantlink.dal.subscriptions import DynamoSubscriptionStore
from quantlink.dal.table import Table
from quantlink.dal.terminals import DynamoTerminalStore
from quantlink.dal.users import DynamoUserStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoStore(
    DynamoStrategyStore,
    DynamoTerminalStore,
    DynamoSubscriptionStore,
    DynamoSignalStore,
    DynamoDeliveryStore,
    DynamoPositionStore,
    DynamoDriftStore,
    DynamoUserStore,
    DynamoShareStore,
    DynamoInvitationStore,
    DynamoBundleStore,
    DynamoGroupStore,
    DynamoDueStore,
    DynamoAuditStore,
):
    """Strategies, terminals, subscriptions, signals, deliveries, position snapshots, drift, users, shares,
    invitations, bundles, groups and the audit log, over one Table."""

    @classmethod
    def for_table(cls, table_name: str, client: DynamoDBClient | None = None) -> DynamoStore:
        return cls(Table(table_name, client))
