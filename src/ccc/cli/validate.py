"""`ccc validate`: placeholder until its use case lands."""


def register(subparsers) -> None:
    subparsers.add_parser("validate", help="(not yet implemented)").set_defaults(run=lambda args: 2)
