"""Alarms, the ISA-18.2 way: definitions from the site, a pure state machine, the
engine, the journal, the release blockers and the service (ADR 0005). Qt-free."""
