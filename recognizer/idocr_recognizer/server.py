"""The HTTP server: rapidocr_api's POST /ocr, a bounded queue in front of one pipeline, probes, metrics."""
import asyncio
import base64
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import numpy as np
from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from PIL import Image, UnidentifiedImageError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .engine import Recognizer

log = logging.getLogger("idocr_recognizer")
#: The warnings of a read (`signals.warnings`), comma-separated; empty when there are none.
WARNINGS_HEADER = "Idocr-Warnings"
BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("idocr_recognizer_requests_total", "POST /ocr answers by outcome: ok, busy, too_large, unreadable, failed",
                                ["outcome"], registry=self.registry)
        self.request_seconds = Histogram("idocr_recognizer_request_duration_seconds", "A request from its arrival to its answer, waiting included",
                                         buckets=BUCKETS, registry=self.registry)
        self.read_seconds = Histogram("idocr_recognizer_read_duration_seconds", "One image through detection, direction and recognition",
                                      buckets=BUCKETS, registry=self.registry)
        self.warnings = Counter("idocr_recognizer_warnings_total", "Warnings raised by the pixels, by warning", ["warning"],
                                registry=self.registry)
        self.queue = Gauge("idocr_recognizer_queue_depth", "Requests waiting or being read", registry=self.registry)
        self.ready = Gauge("idocr_recognizer_ready", "1 once the models are loaded and answer", registry=self.registry)
        self.info = Gauge("idocr_recognizer_info", "The engine and its settings", ["engine", "threads", "det_min_side", "det_max_side"],
                          registry=self.registry)


def create_app(settings):
    """The app for `settings`; the models load in the background, /readyz says when they have."""
    metrics = Metrics()
    # One thread reads; the engine spreads each read over `threads` cores. Requests beyond the
    # one being read wait here, at most `settings.queue` of them.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read")
    state = {"recognizer": None, "in_system": 0, "failure": None}

    def load():
        try:
            recognizer = Recognizer(settings)
            recognizer.warm_up()
            state["recognizer"] = recognizer
            metrics.ready.set(1)
            metrics.info.labels(settings.engine, str(recognizer.threads), str(settings.det_min_side), str(settings.det_max_side)).set(1)
            log.warning("recognizer ready: %s, %d threads, detection with the shorter side at least %d px, the longer at most %d px",
                        settings.engine, recognizer.threads, settings.det_min_side, settings.det_max_side)
        except Exception as error:  # a broken model or engine: /readyz says so, nothing else runs
            state["failure"] = f"{type(error).__name__}: {error}"
            log.error("the models did not load: %s", state["failure"])

    @asynccontextmanager
    async def lifespan(app):
        loading = asyncio.get_running_loop().run_in_executor(executor, load)
        yield
        await loading
        executor.shutdown(wait=True)

    app = FastAPI(title="idcard-ocr recognizer", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    def error(status, code, message, headers=None):
        metrics.requests.labels(code).inc()
        return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)

    @app.middleware("http")
    async def size_cap(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.url.path == "/ocr" and length and length.isdigit() and int(length) > settings.max_image_bytes + 65536:
            return error(413, "too_large", f"the request is larger than {settings.max_image_bytes} bytes of image")
        return await call_next(request)

    @app.get("/")
    def root():
        return {"message": "idcard-ocr recognizer: POST /ocr as rapidocr_api"}

    @app.get("/healthz")
    def healthz():
        return PlainTextResponse("ok\n")

    @app.get("/readyz")
    def readyz():
        if state["recognizer"] is not None:
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {state['failure'] or 'loading the models'}\n", status_code=503)

    @app.get("/metrics")
    def prometheus():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/ocr")
    async def ocr(image_file: UploadFile | None = None, image_data: str = Form(None), use_det: bool = Form(None),
                  use_cls: bool = Form(None), use_rec: bool = Form(None)):
        recognizer = state["recognizer"]
        if recognizer is None:
            return error(503, "busy", "the models are still loading", {"Retry-After": "1"})
        # The one being read and `queue` waiting; more are turned away at once rather than
        # answered late: the worker retries them, maybe on another replica. The place is taken
        # before the first await, so requests arriving together cannot all pass the check.
        if state["in_system"] > settings.queue:
            return error(503, "busy", f"{state['in_system']} requests in hand", {"Retry-After": "1"})
        state["in_system"] += 1
        metrics.queue.set(state["in_system"])
        try:
            if image_file is not None:
                data = await image_file.read(settings.max_image_bytes + 1)
            elif image_data:
                try:
                    data = base64.b64decode(image_data, validate=False)
                except ValueError:
                    return error(400, "unreadable", "image_data is not base64")
            else:
                return error(400, "unreadable", "send image_file (multipart) or image_data (base64)")
            if len(data) > settings.max_image_bytes:
                return error(413, "too_large", f"the image is larger than {settings.max_image_bytes} bytes")
            try:
                image = np.array(Image.open(io.BytesIO(data)))
            except (UnidentifiedImageError, OSError, ValueError):
                return error(400, "unreadable", "the image cannot be decoded")
            with metrics.request_seconds.time():
                answer, found, took = await asyncio.get_running_loop().run_in_executor(executor, recognizer.read, image)
        except Exception as failure:  # the engine failed on this image: a 500, which the worker retries
            log.error("reading failed: %s", type(failure).__name__)
            return error(500, "failed", "the recognizer failed on this image")
        finally:
            state["in_system"] -= 1
            metrics.queue.set(state["in_system"])
        metrics.read_seconds.observe(took)
        metrics.requests.labels("ok").inc()
        for warning in found:
            metrics.warnings.labels(warning).inc()
        # The body stays rapidocr_api's; what the pixels say travels beside it, in a header a
        # client that does not know it ignores.
        return JSONResponse(answer, headers={WARNINGS_HEADER: ", ".join(found)})

    return app
