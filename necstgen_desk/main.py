"""The composition root: command line, logging, and the start of the GUI.

``necstgen-desk``                       the demo: built-in simulator + main window
``necstgen-desk --site FILE``           poll the PLCs the site file names
``necstgen-desk --screenshot PNG``      start, wait for live values, save the window, exit
``necstgen-desk check-site FILE``       validate a site file (exit 0 good, 2 with the list)
``necstgen-desk sim``                   run the facility simulator standalone
``necstgen-desk plan [--site FILE]``    show the Modbus read plan of each PLC
``necstgen-desk audit verify [--db URL]`` check the audit trail (0 intact, 1 broken, 2 no db)
``necstgen-desk user add NAME --role ROLE [--full-name TEXT] [--password-stdin] [--admin ADMIN]
[--db URL]``                             add an account (0 created, 2 refused)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from necstgen_desk import __version__
from necstgen_desk.options import AppOptions
from necstgen_desk.records.roles import Role
from necstgen_desk.site import DEFAULT_SITE_PATH, SiteError, load_site

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="necstgen-desk",
        description="NECSTGEN Desk: the control room of a GMP cleanroom facility.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--site", type=Path, help="site file (TOML) of a real facility; default: the demo"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the main window to PNG once live values show, then exit",
    )
    parser.add_argument(
        "--after",
        type=_positive,
        default=30.0,
        metavar="SECONDS",
        help="with --screenshot: wait at most this long for live values (default 30)",
    )
    parser.add_argument(
        "--speed", type=_positive, default=1.0, help="demo: simulator time factor (default 1)"
    )
    parser.add_argument("--scenario", type=Path, help="demo: simulator scenario file")
    parser.add_argument(
        "--db",
        dest="app_db_url",
        metavar="URL",
        help="GMP records database, e.g. postgresql+psycopg://host/db "
        "(default: $NECSTGEN_DB_URL or the SQLite file in the user data folder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check-site", help="validate a site file")
    check.add_argument("file", type=Path)

    sim = commands.add_parser("sim", help="run the facility simulator standalone")
    sim.add_argument("--site", type=Path, dest="sim_site", help="site file (default: NECSTGEN)")
    sim.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        dest="sim_speed",
        help="time factor, e.g. 60 for a minute per second",
    )
    sim.add_argument("--scenario", type=Path, dest="sim_scenario", help="scenario file (TOML)")
    sim.add_argument(
        "--free-ports",
        action="store_true",
        help="listen on free loopback ports instead of the site's ports",
    )
    sim.add_argument(
        "--json",
        action="store_true",
        help="print endpoints as one JSON line; stop when stdin closes",
    )

    audit = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser("verify", help="check the audit trail's hash chain")
    verify.add_argument(
        "--db", dest="db_url", metavar="URL", help="database URL (default: the app's SQLite file)"
    )

    user = commands.add_parser("user", help="user accounts")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_commands.add_parser(
        "add", help="add an account: the first must be an administrator, later ones need --admin"
    )
    add.add_argument("username", metavar="NAME")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument(
        "--full-name",
        dest="full_name",
        metavar="TEXT",
        help="printed name on signatures (default: NAME)",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (with --admin, the admin's on the next line)",
    )
    add.add_argument(
        "--admin", metavar="ADMIN", help="an existing administrator (asked for the password)"
    )
    add.add_argument(
        "--db",
        dest="user_db_url",
        metavar="URL",
        help="database URL (default: the app's SQLite file)",
    )

    plan = commands.add_parser("plan", help="show the Modbus read plan of each PLC")
    plan.add_argument("--site", type=Path, dest="plan_site", help="site file (default: NECSTGEN)")
    return parser


def check_site(path: Path) -> int:
    try:
        site = load_site(path)
    except SiteError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"{path}: OK — site {site.name!r}: {len(site.spaces)} spaces, {len(site.doors)} doors, "
        f"{len(site.airlocks)} airlocks, {len(site.plcs)} PLCs, {len(site.points)} points"
    )
    return EXIT_OK


def show_plan(path: Path | None) -> int:
    from hal.planner import plan_plc  # noqa: PLC0415 - only this command needs it

    try:
        site = load_site(path or DEFAULT_SITE_PATH)
    except SiteError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    total = 0
    for plc in site.plcs:
        plan = plan_plc(plc)
        total += len(plan)
        print(
            f"{plc.id} ({plc.host}:{plc.port}, every {plc.scan_period_s:g} s): "
            f"{len(plan)} request(s)"
        )
        for request in plan:
            print(
                f"  {request.table.value:<15} {request.address:>5} +{request.count:<4} "
                f"{len(request.points)} point(s)"
            )
    print(f"one scan of the site: {total} Modbus requests")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-site":
        return check_site(args.file)
    if args.command == "audit":
        from necstgen_desk.storage.cli import audit_verify  # noqa: PLC0415 - only this command

        return audit_verify(args.db_url)
    if args.command == "user":
        from necstgen_desk.services.cli import user_add  # noqa: PLC0415 - only this command

        return user_add(
            args.user_db_url,
            args.username,
            args.role,
            args.full_name,
            args.password_stdin,
            args.admin,
        )
    if args.command == "plan":
        return show_plan(args.plan_site)
    if args.command == "sim":
        from necstgen_desk.simulation import run_cli  # noqa: PLC0415 - keeps GUI start lean

        return run_cli(
            str(args.sim_site) if args.sim_site else None,
            args.sim_speed,
            str(args.sim_scenario) if args.sim_scenario else None,
            args.free_ports,
            args.json,
        )
    options = AppOptions(
        site_path=args.site,
        screenshot=args.screenshot,
        after=args.after,
        speed=args.speed,
        scenario=args.scenario,
        db_url=args.app_db_url,
    )
    from ui.app import run  # noqa: PLC0415 - the composition root starts the GUI last

    return run(options)


if __name__ == "__main__":
    sys.exit(main())
