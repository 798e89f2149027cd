"""Executors place orders for one account behind one interface (base.Executor)."""
