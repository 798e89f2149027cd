"""The expiry sweep's operations on moto (DynamoDB + SES): shares and invitations whose time passed
expire, are audited and change what the hot path reads; warnings go out once per share even when the
sweep runs twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantlink.dal.mail import SesMailer
from quantlink.dal.store import DynamoStore
from quantlink.sharing.expiry import expire_due, send_expiry_warnings
from tests.integration.conftest import QuantLink
from tests.integration.sharing_driver import Sharing
from tests.integration.test_bundles import receives
from tests.integration.test_sweep import sweep


@pytest.fixture
def sh(ql: QuantLink) -> Sharing:
    sharing = Sharing(ql)
    sharing.make_pro("alice")
    return sharing


def test_the_sweep_expires_shares_and_invitations_and_warns_once(ql: QuantLink, sh: Sharing) -> None:
    store = DynamoStore.for_table(ql.stack.table_name)
    mailer = SesMailer(ql.stack.environment["MAIL_FROM"])
    strategy = ql.create_strategy("alice", name="Momentum")
    now = datetime.now(UTC)
    ending = sh.share("alice", "bob", strategy, shareExpiresAt=(now + timedelta(days=3)).isoformat())
    terminal = ql.register_terminal("bob")
    assert sh.subscribe(terminal, strategy).status == 200
    link = sh.invite("alice", strategy, expiresAt=(now + timedelta(days=1)).isoformat()).body
    sent_before = len(sh.sent_emails())

    assert sweep(ql, now)["handled"]["sendExpiryWarnings"] == 1  # the scheduled sweep runs it
    assert send_expiry_warnings(store, mailer, now) == 0  # a second (or overlapping) run sends nothing again
    emails = sh.sent_emails()[sent_before:]
    assert [e.destinations["ToAddresses"] for e in emails] == [["bob@example.com"], ["alice@example.com"]]
    assert "Momentum" in emails[0].subject

    later = now + timedelta(days=4)
    assert sweep(ql, later)["handled"]["expireShares"] == 2  # the share and the invitation
    assert (expire_due(store, later).shares, expire_due(store, later).invitations) == (0, 0)

    assert [s["status"] for s in sh.shares("bob", "recipient")] == ["expired"]
    assert ql.terminal_view(terminal)["subscriptions"] == []
    assert not receives(ql, strategy, terminal)
    statuses = {i["invitationId"]: i["status"] for i in sh.call("owner_api/list_invitations", "alice").body["items"]}
    assert statuses[link["invitationId"]] == "expired"
    actions = [e["action"] for e in sh.audit("alice", action="share.expired")["items"]]
    assert actions == ["share.expired"] and ending["shareId"]
    assert [e["action"] for e in sh.audit("alice", action="invitation.expired")["items"]] == ["invitation.expired"]
