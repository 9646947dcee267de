"""`ccc manager`: placeholder until its use case lands."""


def register(subparsers) -> None:
    subparsers.add_parser("manager", help="(not yet implemented)").set_defaults(run=lambda args: 2)
