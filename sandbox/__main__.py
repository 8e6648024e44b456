"""`python -m sandbox`: run the sandbox Graph API in the foreground (Ctrl-C stops)."""

import argparse
import signal
import sys
from types import FrameType

from .server import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Sandbox Graph API: a local stand-in for Facebook's Graph API (not Facebook).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--latency-ms", type=int, default=0, help="latency of every Graph call")
    parser.add_argument("--state-file", default=None, help="keep what was published (JSON)")
    parser.add_argument("--app-id", default="sandbox-app")
    parser.add_argument("--app-secret", default="sandbox-secret")
    parser.add_argument(
        "--processing-seconds",
        type=float,
        default=2.0,
        help="how long Instagram containers stay IN_PROGRESS",
    )
    parser.add_argument("--quota-total", type=int, default=100, help="Instagram posts per 24 h")
    parser.add_argument(
        "--no-fetch-media", action="store_true", help="do not download url / image_url"
    )
    parser.add_argument(
        "--no-appsecret-proof",
        action="store_true",
        help="accept calls without appsecret_proof (a wrong one is still refused)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of fault probabilities")
    parser.add_argument("--verbose", action="store_true", help="log requests (redacted)")
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # honcho and docker stop processes with SIGTERM: stop as cleanly as on Ctrl-C.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = SandboxServer(
            args.host,
            args.port,
            app_id=args.app_id,
            app_secret=args.app_secret,
            latency_ms=args.latency_ms,
            state_file=args.state_file,
            processing_seconds=args.processing_seconds,
            quota_total=args.quota_total,
            fetch_media=not args.no_fetch_media,
            appsecret_proof_required=not args.no_appsecret_proof,
            seed=args.seed,
            verbose=args.verbose,
        )
    except ValueError as exc:
        sys.stderr.write(f"sandbox: {exc}\n")
        return 2
    sys.stderr.write(
        f"Sandbox Graph API (SANDBOX - not Facebook) on http://{args.host}:{args.port} "
        f"app_id={args.app_id}"
        + (f" state_file={args.state_file}" if args.state_file else "")
        + " - Ctrl-C stops\n"
    )
    for mount in server.app.mounts:
        where = f":{mount.port}" if mount.port is not None else mount.prefix or "/"
        networks = ", ".join(n.label for n in mount.networks)
        sys.stderr.write(f"  {mount.label} at {where}: {networks}\n")
    # Ctrl-C too, explicitly: a process started in the background of a non-interactive shell
    # inherits SIGINT ignored, and Python then keeps it ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.stderr.write("sandbox: stopped\n")
    except OSError as exc:
        sys.stderr.write(f"sandbox: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
