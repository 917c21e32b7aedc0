"""idcard-ocr's recognition server (docs/recognizer.md).

The same `POST /ocr` answer as `rapidocr_api`, so either stands behind `RAPIDOCR_URL`: the same
models on the OpenVINO engine, its threads sized to the container's CPU quota, the detection size
chosen for ID cards; a bounded queue with a "busy" answer the worker waits out; `/healthz`,
`/readyz` and Prometheus metrics.
"""
