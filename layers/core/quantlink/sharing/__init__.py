"""Sharing (API.md "Sharing"): users and plans, shares with permissions, invitations, the audit log.

A share gives one recipient one strategy's signals. What the hot path reads stays the strategy's
materialized subscriptions: every share change recomputes the recipient's Grant (what all its shares of
that strategy add up to) and rewrites the strategy side of the recipient's subscriptions in the same
transaction, so a pause, revocation, expiry or permission change takes effect at the next webhook."""
