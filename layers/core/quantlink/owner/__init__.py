"""Owner operations, one module per area: strategies (and their signal timeline and code injection),
terminals, subscriptions. Each takes the stores it needs as Protocols (quantlink.dal.ports), its
configuration as arguments, and returns the view model the API answers with (quantlink.views).

Another owner's record answers NOT_FOUND exactly like a missing one, so ids cannot be probed."""
