"""Users (one record each, created on the first signed-in call, listed and found by address through
gsi1) and the admin settings (one record). Layout: dal/keys.py."""

from __future__ import annotations

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import NotFound
from quantlink.sharing.records import Plan, Settings, User


class DynamoUserStore(TableStore):
    def get_user(self, user_id: str) -> User | None:
        item = self.table.get(keys.user_pk(user_id), keys.META)
        return from_item(User, item) if item else None

    def create_user(self, user: User) -> User:
        """The stored user: this one, or the one a concurrent first call created before."""
        item = to_item(
            user,
            pk=keys.user_pk(user.user_id),
            sk=keys.META,
            gsi1pk=keys.users_gsi1pk(),
            gsi1sk=keys.user_email_gsi1sk(user.email, user.user_id),
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            return self.get_user(user.user_id) or user
        return user

    def set_plan(self, user_id: str, plan: Plan) -> None:
        """Raises NotFound for a user who never signed in."""
        try:
            self.table.update(
                keys.user_pk(user_id), keys.META, update="SET #plan = :plan", condition="attribute_exists(pk)",
                names={"#plan": "plan"}, attribute_values={"plan": plan.value},
            )  # fmt: skip
        except ConditionFailed as failed:
            raise NotFound("No such user.") from failed

    def list_users(self) -> list[User]:
        """By address."""
        items = self.table.query_gsi1(keys.users_gsi1pk(), keys.EMAILS, newest_first=False)
        return [from_item(User, item) for item in items]

    def users_with_email(self, email: str) -> list[User]:
        items = self.table.query_gsi1(keys.users_gsi1pk(), keys.user_email_gsi1sk(email), newest_first=False)
        return [from_item(User, item) for item in items]

    def get_settings(self) -> Settings:
        item = self.table.get(keys.SETTINGS_PK, keys.META)
        return from_item(Settings, item) if item else Settings()

    def put_settings(self, settings: Settings) -> None:
        self.table.put(to_item(settings, pk=keys.SETTINGS_PK, sk=keys.META))
