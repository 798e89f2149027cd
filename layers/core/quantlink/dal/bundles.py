"""Bundles: one record each (listed per owner through gsi1) with its strategy ids and a version (two
changes of its strategies cannot interleave), and one item per member. Layout: dal/keys.py."""

from __future__ import annotations

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict
from quantlink.sharing.records import Bundle, BundleMember


class DynamoBundleStore(TableStore):
    def put_bundle(self, bundle: Bundle) -> None:
        """A new bundle, or a change of one read at `bundle.version - 1` (else Conflict: read again)."""
        item = to_item(
            bundle,
            pk=keys.bundle_pk(bundle.bundle_id),
            sk=keys.META,
            gsi1pk=keys.owner_gsi1pk(bundle.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.BUNDLE, bundle.created_at, bundle.bundle_id),
        )
        if bundle.version == 0:
            condition, at_version = "attribute_not_exists(pk)", {}
        else:
            condition, at_version = "version = :version", {"version": bundle.version - 1}
        try:
            self.table.put(item, condition=condition, attribute_values=at_version)
        except ConditionFailed as failed:
            raise Conflict("The bundle changed meanwhile; retry.") from failed

    def get_bundle(self, bundle_id: str) -> Bundle | None:
        item = self.table.get(keys.bundle_pk(bundle_id), keys.META)
        return from_item(Bundle, item) if item else None

    def list_bundles(self, owner_id: str) -> list[Bundle]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.BUNDLE.value)
        return [from_item(Bundle, item) for item in items]

    def put_bundle_member(self, member: BundleMember) -> bool:
        """False when the user was a member already."""
        try:
            self.table.put(
                to_item(member, pk=keys.bundle_pk(member.bundle_id), sk=keys.member_sk(member.user_id)),
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True

    def bundle_members(self, bundle_id: str) -> list[BundleMember]:
        items = self.table.query_prefix(keys.bundle_pk(bundle_id), keys.MEMBERS)
        return [from_item(BundleMember, item) for item in items]

    def delete_bundle_member(self, bundle_id: str, user_id: str) -> None:
        self.table.delete(keys.bundle_pk(bundle_id), keys.member_sk(user_id))

    def delete_bundle(self, bundle_id: str) -> None:
        pk = keys.bundle_pk(bundle_id)
        self.table.delete_all([(pk, str(item["sk"]["S"])) for item in self.table.query_partition(pk)])  # type: ignore[typeddict-item]
