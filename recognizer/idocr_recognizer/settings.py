"""The server's settings, from the environment, each with a documented default (docs/recognizer.md)."""
import math
import os
from dataclasses import dataclass

ENGINES = ("openvino", "onnxruntime")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and what it takes."""


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 9003
    #: The inference engine for the three models: OpenVINO runs them about twice as fast as
    #: onnxruntime on x86 CPUs (docs/performance.md); onnxruntime is the stock server's.
    engine: str = "openvino"
    #: Inference threads; 0: the CPUs this process may use (the container's CPU quota, rounded
    #: up, within its CPU affinity). More threads than the quota only adds throttling.
    threads: int = 0
    #: Detection input size (`sizing.detection_size`): the shorter side scaled up to at least
    #: `det_min_side` (the stock server's 736), then the longer side down to at most
    #: `det_max_side`. Recognition reads the lines from the image as it came.
    det_min_side: int = 736
    det_max_side: int = 960
    #: Requests that may wait while one is read; more are answered 503 "busy" (Retry-After: 1),
    #: which the worker retries with backoff. A deep queue only makes each answer later.
    queue: int = 4
    #: Largest image; larger: 413 (the worker maps it to image_too_large).
    max_image_bytes: int = 10 << 20

    @staticmethod
    def from_environment(environ=None):
        env = os.environ if environ is None else environ
        prefix = "IDOCR_RECOGNIZER_"

        def number(name, default, low, high):
            text = env.get(prefix + name)
            if text is None or text == "":
                return default
            try:
                value = int(text)
            except ValueError:
                raise SettingsError(f"{prefix}{name}={text!r}: give a whole number from {low} to {high}") from None
            if not low <= value <= high:
                raise SettingsError(f"{prefix}{name}={value}: give a whole number from {low} to {high}")
            return value

        def choice(name, default, options):
            value = env.get(prefix + name) or default
            if value not in options:
                raise SettingsError(f"{prefix}{name}={value!r}: give one of {', '.join(options)}")
            return value

        return Settings(
            host=env.get(prefix + "HOST") or Settings.host,
            port=number("PORT", Settings.port, 0, 65535),
            engine=choice("ENGINE", Settings.engine, ENGINES),
            threads=number("THREADS", Settings.threads, 0, 1024),
            det_min_side=number("DET_MIN_SIDE", Settings.det_min_side, 32, 4000),
            det_max_side=number("DET_MAX_SIDE", Settings.det_max_side, 32, 4000),
            queue=number("QUEUE", Settings.queue, 0, 10000),
            max_image_bytes=number("MAX_IMAGE_BYTES", Settings.max_image_bytes, 1024, 1 << 30),
        )

    def inference_threads(self):
        return self.threads or usable_cpus()


def usable_cpus():
    """The CPUs this process may use: its affinity, cut to the cgroup's CPU quota."""
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return None

    return cpus_allowed(len(os.sched_getaffinity(0)), read("/sys/fs/cgroup/cpu.max"),
                        read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def cpus_allowed(affinity, cgroup_v2_max=None, v1_quota=None, v1_period=None):
    """`affinity` CPUs cut to a CPU quota: cgroup v2's cpu.max ("200000 100000", "max 100000"),
    or v1's cfs_quota_us/cfs_period_us (-1: none). A fractional quota rounds up: 1.5 CPUs keep
    two threads busy part of the time, better than one all of it."""
    quota = period = None
    if cgroup_v2_max:
        parts = cgroup_v2_max.split()
        if len(parts) == 2 and parts[0] != "max":
            quota, period = parts
    elif v1_quota and v1_period and v1_quota.strip() != "-1":
        quota, period = v1_quota, v1_period
    try:
        if quota is not None and int(period) > 0 and int(quota) > 0:
            return max(1, min(affinity, math.ceil(int(quota) / int(period))))
    except ValueError:
        pass
    return max(1, affinity)
