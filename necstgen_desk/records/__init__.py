"""GMP record rules, pure: roles, passwords, hashing, room lifecycle, logbooks, signatures.

No database and no Qt (ADR 0003): the storage layer persists, the services
enforce, these modules decide.
"""
