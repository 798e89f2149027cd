"""Invitations: one record each (listed per owner through gsi1), and one use item per user who accepted
it, written in the same transaction as the use count, so a user accepts once and a link's last use goes
to exactly one of two people accepting at once. Layout: dal/keys.py."""

from __future__ import annotations

from datetime import datetime

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore, TransactionCanceled
from quantlink.errors import Conflict, InvitationUsedUp, NotFound
from quantlink.sharing.records import Invitation
from quantlink.timeutil import iso

# Still open for one more use at `:now` (the record decides, not what the caller read).
_OPEN = (
    "revoked = :no AND expired = :no AND (attribute_not_exists(maxUses) OR uses < maxUses)"
    " AND (attribute_not_exists(expiresAt) OR expiresAt > :now)"
)


class DynamoInvitationStore(TableStore):
    def put_invitation(self, invitation: Invitation) -> None:
        item = to_item(
            invitation,
            pk=keys.invitation_pk(invitation.invitation_id),
            sk=keys.META,
            gsi1pk=keys.owner_gsi1pk(invitation.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.INVITATION, invitation.created_at, invitation.invitation_id),
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise Conflict("An invitation with this id already exists.") from failed
        if invitation.expires_at is not None:
            due = keys.due_sk(invitation.expires_at, "invitation", invitation.invitation_id)
            self.table.put(self.table.key(keys.DUE_PK, due))

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        item = self.table.get(keys.invitation_pk(invitation_id), keys.META)
        return from_item(Invitation, item) if item else None

    def list_invitations(self, owner_id: str) -> list[Invitation]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.INVITATION.value)
        return [from_item(Invitation, item) for item in items]

    def revoke_invitation(self, invitation_id: str, owner_id: str) -> None:
        """Only the owner's own; raises NotFound otherwise (again on a revoked one is harmless)."""
        try:
            self.table.update(
                keys.invitation_pk(invitation_id), keys.META, update="SET revoked = :yes",
                condition="ownerId = :owner", attribute_values={"yes": True, "owner": owner_id},
            )  # fmt: skip
        except ConditionFailed as failed:
            raise NotFound("No such invitation.") from failed

    def mark_invitation_expired(self, invitation_id: str) -> bool:
        """True when this call expired it (a pending one); False when it was settled already."""
        try:
            self.table.update(
                keys.invitation_pk(invitation_id), keys.META, update="SET expired = :yes",
                condition="revoked = :no AND expired = :no AND (attribute_not_exists(maxUses) OR uses < maxUses)",
                attribute_values={"yes": True, "no": False},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def claim_invitation_use(self, invitation_id: str, user_id: str, *, at: datetime) -> None:
        """One use of the invitation for this user. Raises Conflict when this user accepted it before,
        InvitationUsedUp when the record no longer allows a use (revoked, expired, used up: the caller
        reads it again to tell which)."""
        pk = keys.invitation_pk(invitation_id)
        try:
            self.table.transact(
                [
                    self.table.put_op(
                        {**self.table.key(pk, keys.use_sk(user_id)), "at": {"S": iso(at)}},
                        condition="attribute_not_exists(pk)",
                    ),
                    self.table.update_op(
                        pk, keys.META, update="SET uses = uses + :one", condition=_OPEN,
                        attribute_values={"one": 1, "no": False, "now": iso(at)},
                    ),
                ]
            )  # fmt: skip
        except TransactionCanceled as canceled:
            if canceled.condition_failed_at(0):
                raise Conflict("You accepted this invitation already.") from canceled
            raise InvitationUsedUp() from canceled

    def release_invitation_use(self, invitation_id: str, user_id: str) -> None:
        """Give a claimed use back (the share it was for could not be made)."""
        pk = keys.invitation_pk(invitation_id)
        self.table.transact(
            [
                self.table.delete_op(pk, keys.use_sk(user_id)),
                self.table.update_op(pk, keys.META, update="SET uses = uses - :one", attribute_values={"one": 1}),
            ]
        )
