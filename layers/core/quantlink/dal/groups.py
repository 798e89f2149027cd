"""Groups: one record each (listed per owner through gsi1), one item per member and per group share; a
group's share of a bundle is also kept under the bundle, so a change of the bundle reaches the group's
members. Layout: dal/keys.py."""

from __future__ import annotations

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict
from quantlink.sharing.records import Group, GroupMember, GroupShare


class DynamoGroupStore(TableStore):
    def put_group(self, group: Group) -> None:
        item = to_item(
            group,
            pk=keys.group_pk(group.group_id),
            sk=keys.META,
            gsi1pk=keys.owner_gsi1pk(group.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.GROUP, group.created_at, group.group_id),
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise Conflict("A group with this id already exists.") from failed

    def get_group(self, group_id: str) -> Group | None:
        item = self.table.get(keys.group_pk(group_id), keys.META)
        return from_item(Group, item) if item else None

    def list_groups(self, owner_id: str) -> list[Group]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.GROUP.value)
        return [from_item(Group, item) for item in items]

    def put_group_member(self, member: GroupMember) -> bool:
        """False when the user was a member already."""
        try:
            self.table.put(
                to_item(member, pk=keys.group_pk(member.group_id), sk=keys.member_sk(member.user_id)),
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True

    def group_members(self, group_id: str) -> list[GroupMember]:
        items = self.table.query_prefix(keys.group_pk(group_id), keys.MEMBERS)
        return [from_item(GroupMember, item) for item in items]

    def delete_group_member(self, group_id: str, user_id: str) -> None:
        self.table.delete(keys.group_pk(group_id), keys.member_sk(user_id))

    def put_group_share(self, share: GroupShare) -> None:
        sk = keys.group_share_sk(share.group_share_id)
        items = [to_item(share, pk=keys.group_pk(share.group_id), sk=sk)]
        if share.bundle_id is not None:
            items.append(to_item(share, pk=keys.bundle_pk(share.bundle_id), sk=sk))
        self.table.transact([self.table.put_op(item) for item in items])

    def group_shares(self, group_id: str) -> list[GroupShare]:
        items = self.table.query_prefix(keys.group_pk(group_id), keys.GROUP_SHARES)
        return [from_item(GroupShare, item) for item in items]

    def group_shares_of_bundle(self, bundle_id: str) -> list[GroupShare]:
        items = self.table.query_prefix(keys.bundle_pk(bundle_id), keys.GROUP_SHARES)
        return [from_item(GroupShare, item) for item in items]

    def delete_group_share(self, share: GroupShare) -> None:
        sk = keys.group_share_sk(share.group_share_id)
        doomed = [(keys.group_pk(share.group_id), sk)]
        if share.bundle_id is not None:
            doomed.append((keys.bundle_pk(share.bundle_id), sk))
        self.table.delete_all(doomed)

    def delete_group(self, group_id: str) -> None:
        pk = keys.group_pk(group_id)
        self.table.delete_all([(pk, str(item["sk"]["S"])) for item in self.table.query_partition(pk)])  # type: ignore[typeddict-item]
