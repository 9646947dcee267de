"""`ccc sandbox`: placeholder until the sandbox server lands."""


def register(subparsers) -> None:
    subparsers.add_parser("sandbox", help="(not yet implemented)").set_defaults(run=lambda args: 2)
