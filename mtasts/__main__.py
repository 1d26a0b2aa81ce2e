"""Command line: `render` a stack's desired state, `verify` live domains, read TLS `reports`.

    python -m mtasts render --stack dev
    python -m mtasts verify example.com [--stack dev] [--json] [--nameserver IP] [--ca-file PATH]
    python -m mtasts reports PATH... [--imap URL] [--stack dev] [--since DATE] [--json] [--html FILE]

Exit status (mtasts.exits): 0 success, 1 a failure (or the output was closed early, as by
`| head`, or could not be written), 2 a usage or configuration error, 3 (verify) a domain could
not be checked, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

try:
    from mtasts.config import ConfigError
    from mtasts.desired import desired_state
    from mtasts.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
    from mtasts.reports.cli import add_reports_command
    from mtasts.stackfile import StackFileError, load_settings_and_warnings
    from mtasts.verify.cli import add_verify_command
    from mtasts.visible import UnwritableOutput, flush_out
except ModuleNotFoundError as error:  # run by a Python outside the project's virtualenv
    from mtasts._outside_venv import explain

    explain(error)


def render(args: argparse.Namespace) -> int:
    settings, warnings = load_settings_and_warnings(args.stack, Path(args.project_dir))
    state = desired_state(settings)
    for warning in warnings:  # the program logs the same ones on `pulumi up`
        print(f"warning: {warning}", file=sys.stderr)
    out = sys.stdout
    out.write(f"; MTA-STS for {state.settings.domain} (stack {args.stack}), mode {state.policy.mode.value}\n")
    out.write(f"; policy file {state.settings.policy_url} (id {state.policy_id}):\n")
    out.writelines(f";   {line}\n" for line in state.policy_text.splitlines())
    out.write("; DNS records (zone-file lines); publish the _mta-sts record only once the file is served\n")
    out.write(state.zone_file())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the docs' commands are checked against it."""
    parser = argparse.ArgumentParser(prog="python -m mtasts", description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", default=".", help="folder holding Pulumi.<stack>.yaml (default: .)")
    commands = parser.add_subparsers(dest="command", required=True)
    render_parser = commands.add_parser("render", help="print the policy file and DNS records of a stack")
    render_parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    render_parser.set_defaults(run=render)
    add_verify_command(commands)
    add_reports_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    _open_closed_streams()
    try:
        args = build_parser().parse_args(argv)  # --help writes too
        status = int(args.run(args))
        flush_out()  # a closed pipe or a full disk shows here, not at exit, where it cannot be caught
        return status
    except (ConfigError, StackFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return closed_output()
    except UnwritableOutput as error:
        print(f"error: cannot write the output ({error}): it is incomplete", file=sys.stderr)
        return closed_output()
    except KeyboardInterrupt:  # where the command was says nothing to the user who stopped it
        print("interrupted (Ctrl-C): stopped before the end; nothing more was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as error:  # a command's own libraries load when it runs
        from mtasts._outside_venv import explain

        explain(error)


def _open_closed_streams() -> None:
    """A command started with its output or its error stream closed (`>&-`, or a service
    manager's) runs as if it went to /dev/null, and its exit status still says what it
    found: Python leaves such a stream None, and the first write was an AttributeError."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (open for the run)


def closed_output() -> int:
    """The output takes no more (the reader went away, as with `... | head`, or the disk is
    full): stop without a traceback.

    The rest of the output goes nowhere, so that flushing at exit cannot fail again (the
    Python documentation's recipe for SIGPIPE); the status says the output is incomplete."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (captured in tests)
        pass
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
