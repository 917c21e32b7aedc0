"""idocr-recognizer: serve POST /ocr (settings from IDOCR_RECOGNIZER_*; docs/recognizer.md)."""
import argparse
import logging
import sys

from .settings import Settings, SettingsError


def main():
    parser = argparse.ArgumentParser("idocr-recognizer", description=__doc__)
    parser.add_argument("--host", help="listen address (IDOCR_RECOGNIZER_HOST, default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="listen port (IDOCR_RECOGNIZER_PORT, default 9003)")
    arguments = parser.parse_args()
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        sys.exit(f"idocr-recognizer: {error}")
    overrides = {k: v for k, v in (("host", arguments.host), ("port", arguments.port)) if v is not None}
    if overrides:
        settings = Settings(**{**settings.__dict__, **overrides})
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import uvicorn

    from .server import create_app
    # One process, one pipeline: scale with replicas (docs/recognizer.md). No access log: it
    # would say nothing the metrics do not, once per image.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="warning",
                timeout_graceful_shutdown=30)


if __name__ == "__main__":
    main()
