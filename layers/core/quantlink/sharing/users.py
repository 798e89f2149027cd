"""Users and plans: who is calling (from the Cognito claims), their record (created on the first signed-in
call), what their plan allows, and the admin operations (plans, settings, the user list)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quantlink.dal.ports import UserStore
from quantlink.errors import Forbidden, NotFound, PlanRequired
from quantlink.sharing.records import Plan, Settings, SettingsBody, User
from quantlink.timeutil import now
from quantlink.views.sharing import Limits, Me, UserList, UserView

if TYPE_CHECKING:
    from quantlink.sharing.audit import Audit

ADMIN_GROUP = "admin"
MAX_USER_ID = 128  # a Cognito `sub` is a UUID: anything longer cannot exist, so it is never looked up


@dataclass(frozen=True)
class Caller:
    """The signed-in user of one request, with what the audit log records about the request."""

    user_id: str
    email: str
    admin: bool = False
    request_id: str | None = None
    source_ip: str | None = None


# The actor of what the scheduled jobs do (expiry, drift alerts) in the audit log.
SYSTEM = Caller(user_id="system", email="system@quantlink")


@dataclass(frozen=True)
class PlanLimits:
    """What the pro plan allows (configuration: OwnerApiSettings); the free plan shares nothing."""

    shares: int = 1000
    recipients_per_strategy: int = 100
    bundles: int = 20
    groups: int = 20

    def of(self, plan: Plan) -> Limits:
        if plan == Plan.FREE:
            return Limits(sharing=False, shares=0, recipients_per_strategy=0, bundles=0, groups=0)
        return Limits(
            sharing=True,
            shares=self.shares,
            recipients_per_strategy=self.recipients_per_strategy,
            bundles=self.bundles,
            groups=self.groups,
        )


def groups_of(claim: object) -> set[str]:
    """`cognito:groups` as API Gateway passes it: a list, or a string ("admin", "[admin, ops]",
    "['admin']"), depending on the authorizer."""
    if isinstance(claim, list | tuple):
        return {str(group) for group in claim}
    text = str(claim or "").strip().strip("[]")
    return {part.strip().strip("'\"") for part in text.replace(",", " ").split() if part.strip().strip("'\"")}


def ensure_user(store: UserStore, caller: Caller) -> User:
    """The caller's record, created on the first call (admins start on the pro plan)."""
    found = store.get_user(caller.user_id)
    if found is not None:
        return found
    plan = Plan.PRO if caller.admin else Plan.FREE
    return store.create_user(User(user_id=caller.user_id, email=caller.email.lower(), plan=plan, created_at=now()))


def me(store: UserStore, caller: Caller, limits: PlanLimits) -> Me:
    user = ensure_user(store, caller)
    return Me(user_id=user.user_id, email=user.email, plan=user.plan, admin=caller.admin, limits=limits.of(user.plan))


def require_sharing(store: UserStore, caller: Caller) -> User:
    """The caller's record when the plan includes sharing; PLAN_REQUIRED otherwise."""
    user = ensure_user(store, caller)
    if user.plan == Plan.FREE:
        raise PlanRequired("Sharing needs the pro plan.")
    return user


def require_admin(caller: Caller) -> None:
    if not caller.admin:
        raise Forbidden("Only an admin can do this.")


def list_users(store: UserStore, caller: Caller) -> UserList:
    require_admin(caller)
    return UserList(items=[UserView.of(user) for user in store.list_users()])


def set_plan(store: UserStore, audit: Audit, caller: Caller, user_id: str, plan: Plan) -> UserView:
    require_admin(caller)
    user = store.get_user(user_id) if 0 < len(user_id) <= MAX_USER_ID else None
    if user is None:
        raise NotFound("No such user (a user exists once it has signed in).")
    store.set_plan(user_id, plan)
    audit.record("plan.changed", "user", user_id, owner_id=user_id, before={"plan": user.plan.value},
                 after={"plan": plan.value})  # fmt: skip
    return UserView.of(user.model_copy(update={"plan": plan}))


def get_settings(store: UserStore, caller: Caller) -> Settings:
    require_admin(caller)
    return store.get_settings()


def update_settings(store: UserStore, audit: Audit, caller: Caller, body: SettingsBody) -> Settings:
    """Recorded while the log is on before or after: switching it off is the last entry it gets,
    switching it on the first."""
    require_admin(caller)
    old = audit.settings
    new = old.model_copy(update=body.model_dump(exclude_none=True))
    store.put_settings(new)
    audit.use(new if new.audit_enabled else old)
    audit.record("admin.settings_changed", "settings", "settings", owner_id=caller.user_id, before=old.wire(),
                 after=new.wire())  # fmt: skip
    return new
