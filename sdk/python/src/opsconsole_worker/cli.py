"""The ``opsconsole-worker`` command: wrap, flush, status, requeue."""

import argparse
import json
import logging
import sys

from opsconsole_worker import __version__, config
from opsconsole_worker.client import Client, ConfigurationError
from opsconsole_worker.spool import Spool
from opsconsole_worker.wrap import wrap

EPILOG = (
    "Settings come from --url/--key/--spool/--timeout, else OPSCONSOLE_URL, OPSCONSOLE_KEY, "
    "OPSCONSOLE_SPOOL and OPSCONSOLE_TIMEOUT."
)


def _common(parser):
    parser.add_argument("--url", help="the console's base URL (OPSCONSOLE_URL)")
    parser.add_argument("--key", help="an ingest key of the tenant (OPSCONSOLE_KEY)")
    parser.add_argument("--spool", help="the spool folder (OPSCONSOLE_SPOOL; default: a per-user cache folder)")
    parser.add_argument("--timeout", type=float, help="seconds one request may take (OPSCONSOLE_TIMEOUT, default 5)")


def build_parser():
    parser = argparse.ArgumentParser(prog="opsconsole-worker", description="Report sync runs to opsconsole.")
    parser.add_argument("--version", action="version", version=f"opsconsole-worker {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    wrap_cmd = commands.add_parser(
        "wrap",
        help="run a command and report it as a run",
        description="Posts running, runs COMMAND, posts succeeded or failed by its exit status with the last "
        "100 lines of its output, and exits with the command's status.",
        epilog=EPILOG,
    )
    _common(wrap_cmd)
    wrap_cmd.add_argument("--integration", required=True, help="the integration's slug")
    wrap_cmd.add_argument("--run-id", help="the run's id (default: time and random)")
    wrap_cmd.add_argument("--trigger", default="schedule", choices=["schedule", "event", "manual", "replay"])
    wrap_cmd.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS", help="the command to run")

    flush_cmd = commands.add_parser("flush", help="send the spooled documents", epilog=EPILOG)
    _common(flush_cmd)
    flush_cmd.add_argument("--json", action="store_true", help="print the outcome as JSON")
    flush_cmd.add_argument("--batch-size", type=int, default=500, help="runs per request (1 to 1,000; default 500)")

    status_cmd = commands.add_parser("status", help="show what is spooled and rejected", epilog=EPILOG)
    _common(status_cmd)
    status_cmd.add_argument("--json", action="store_true", help="print as JSON")

    requeue_cmd = commands.add_parser("requeue", help="move rejected documents back to the spool", epilog=EPILOG)
    _common(requeue_cmd)
    return parser


def _client(args):
    return Client(url=args.url, key=args.key, spool=args.spool, timeout=args.timeout)


def cmd_wrap(args):
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        print("opsconsole-worker wrap: no command given (put it after --)", file=sys.stderr)
        return 2
    try:
        client = _client(args)
    except ConfigurationError as exc:
        # The job runs anyway: reporting must never stop it.
        print(f"opsconsole-worker: not reporting: {exc}", file=sys.stderr)
        client = None
    return wrap(client, args.integration, command, run_id=args.run_id, trigger=args.trigger)


def cmd_flush(args):
    try:
        client = _client(args)
    except ConfigurationError as exc:
        print(f"opsconsole-worker: {exc}", file=sys.stderr)
        return 2
    result = client.flush(batch_size=args.batch_size)
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        print(f"sent {result.sent}, rejected {result.rejected}, still spooled {result.remaining}")
        if result.error:
            print(f"console unavailable: {result.error}", file=sys.stderr)
    # Documents still pending because another process is sending them are no failure.
    return 1 if result.error else 0


def _ago(seconds):
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def cmd_status(args):
    spool = Spool(config.spool_folder(args.spool))
    pending, rejected = spool.pending(), spool.rejected()
    if args.json:
        print(
            json.dumps(
                {
                    "spool": spool.folder,
                    "pending": len(pending),
                    "oldest_pending_seconds": spool.oldest_pending_age(),
                    "rejected": [
                        {k: r.get(k) for k in ("file", "kind", "key", "rejected_at", "status", "answer")}
                        for r in rejected
                    ],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"spool: {spool.folder}")
    age = spool.oldest_pending_age()
    print(f"pending: {len(pending)}" + (f" (oldest {_ago(age)} ago)" if age is not None else ""))
    print(f"rejected: {len(rejected)}")
    for item in rejected:
        answer = json.dumps(item.get("answer"), ensure_ascii=False)
        print(f"  {item['file']}  {item.get('key')}  HTTP {item.get('status')}  {answer[:300]}")
    return 0


def cmd_requeue(args):
    moved = Spool(config.spool_folder(args.spool)).requeue()
    print(f"requeued {moved}")
    return 0


def main(argv=None):
    logging.basicConfig(level=logging.WARNING, format="opsconsole-worker: %(message)s")
    args = build_parser().parse_args(argv)
    handlers = {"wrap": cmd_wrap, "flush": cmd_flush, "status": cmd_status, "requeue": cmd_requeue}
    return handlers[args.command](args)
