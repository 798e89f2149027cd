"""Sharing over the owner API's handler (in-process under moto): users by name, the admin who sets
plans, invitations and their tokens, shares, and the emails SES was asked to send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.ses.models import ses_backends

from quantlink_local.template import ACCOUNT_ID
from tests.integration.conftest import REGION, QuantLink, Reply, StrategyCreds, TerminalCreds

ADMIN = "root"


@dataclass
class Sharing:
    ql: QuantLink

    def claims(self, who: str) -> dict[str, str]:
        claims = self.ql.claims(who)
        if who == ADMIN:
            claims["cognito:groups"] = "admin"
        return claims

    def user_id(self, who: str) -> str:
        return self.ql.claims(who)["sub"]

    def call(self, sample: str, who: str, **overrides: Any) -> Reply:
        return self.ql.call(sample, claims=self.claims(who), **overrides)

    def me(self, who: str) -> dict[str, Any]:
        reply = self.call("owner_api/me", who)
        assert reply.status == 200, reply.text
        answer: dict[str, Any] = reply.body
        return answer

    def make_pro(self, who: str) -> None:
        self.me(who)  # a user exists once it has signed in
        reply = self.call("owner_api/set_plan", ADMIN, path_params={"userId": self.user_id(who)}, body={"plan": "pro"})
        assert reply.status == 200, reply.text

    def invite(
        self,
        owner: str,
        strategy: StrategyCreds,
        *,
        email: str | None = None,
        permissions: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Reply:
        body: dict[str, Any] = {"strategyId": strategy.strategy_id, **extra}
        if email is not None:
            body["email"] = email
        if permissions is not None:
            body["permissions"] = permissions
        return self.call("owner_api/create_invitation", owner, body=body)

    def token(self, owner: str, strategy: StrategyCreds, **kwargs: Any) -> str:
        reply = self.invite(owner, strategy, **kwargs)
        assert reply.status == 201, reply.text
        url: str = reply.body["url"]
        return url.rsplit("/", 1)[1]

    def accept(self, who: str, token: str) -> Reply:
        return self.call("owner_api/accept_invitation", who, body={"token": token})

    def share(
        self, owner: str, recipient: str, strategy: StrategyCreds, permissions: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """A direct share through a link invitation the recipient accepts."""
        reply = self.accept(recipient, self.token(owner, strategy, permissions=permissions, **kw))
        assert reply.status == 200, reply.text
        (share,) = reply.body["shares"]
        answer: dict[str, Any] = share
        return answer

    def shares(self, who: str, side: str) -> list[dict[str, Any]]:
        reply = self.call("owner_api/list_shares", who, query={"as": side})
        assert reply.status == 200, reply.text
        items: list[dict[str, Any]] = reply.body["items"]
        return items

    def patch(self, who: str, share_id: str, body: dict[str, Any]) -> Reply:
        return self.call("owner_api/update_share", who, path_params={"shareId": share_id}, body=body)

    def delete(self, who: str, share_id: str) -> Reply:
        return self.call("owner_api/delete_share", who, path_params={"shareId": share_id})

    def subscribe(self, terminal: TerminalCreds, strategy: StrategyCreds) -> Reply:
        return self.call(
            "owner_api/subscribe",
            terminal.owner,
            path_params={"terminalId": terminal.terminal_id, "strategyId": strategy.strategy_id},
            body=None,
        )

    def audit(self, who: str, **query: str) -> dict[str, Any]:
        reply = self.call("owner_api/audit", who, query=query or None)
        assert reply.status == 200, reply.text
        page: dict[str, Any] = reply.body
        return page

    @staticmethod
    def sent_emails() -> list[Any]:
        """What SES (moto) was asked to send, oldest first."""
        return list(ses_backends[ACCOUNT_ID][REGION].sent_messages)
