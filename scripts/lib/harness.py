"""Process helpers shared by the acceptance run, the accuracy benchmark, the demo's checks and the
dashboard's browser tests.

Starts real processes (redis-server, the RapidOCR server, the 1429-1 fake, workers, the dashboard)
on free loopback ports and stops them; waits with a deadline. Synthetic data only.
"""
import json, os, signal, socket, subprocess, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build", "debug")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
# A JPEG start and a 640x400 frame header: all the worker's intake checks before any call.
JPEG_HEAD = bytes([0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 1, 144, 2, 128, 3, 1, 17, 0, 2, 17, 0, 3, 17, 0])
# What the 1429-1 fake (IDCardTestSupport.FakeImage) looks for after the header.
FAKE_MARKER = JPEG_HEAD + b"IDOCR-FAKE"


def padded_image(size, nonce):
    """An image of `size` bytes that passes intake, distinct per nonce."""
    return JPEG_HEAD + nonce.encode() + b"\0" * max(0, size - len(JPEG_HEAD) - len(nonce))


def fake_image(card, nonce, padding=0, script=()):
    """An image the 1429-1 fake answers with `card`, after the answers `script` names
    (IDCardTestSupport.FakeImage.Step, e.g. "not_recognized"); `padding` bytes make it larger."""
    payload = {"card": card, "script": list(script), "nonce": nonce}
    if padding:
        payload["padding"] = "x" * padding
    return FAKE_MARKER + json.dumps(payload, ensure_ascii=False).encode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout):
    """True as soon as condition() is; False after timeout seconds. Exceptions count as not yet."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    return False


def start_redis(directory, extra=()):
    """A throwaway redis-server on a free port; returns (process, url, port). extra: more arguments."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory, *extra],
                            stdout=subprocess.DEVNULL)
    return proc, f"redis://127.0.0.1:{port}/0", port


def start_rapidocr(log, workers=1):
    """The stock RapidOCR API server from .venv on a free port, once / answers; returns (process, url)."""
    return start_ocr(lambda port: ([os.path.join(VENV_BIN, "rapidocr_api"), "-ip", "127.0.0.1", "-p", str(port), "-workers", str(workers)],
                                   os.environ), "/", log, "the RapidOCR server")


def start_recognizer(log, env=None):
    """idcard-ocr's recognition server (recognizer/, in .venv) on a free port, once /readyz says its
    models are loaded; returns (process, url). `env`: IDOCR_RECOGNIZER_* settings."""
    return start_ocr(lambda port: ([os.path.join(VENV_BIN, "idocr-recognizer")],
                                   dict(os.environ, IDOCR_RECOGNIZER_HOST="127.0.0.1", IDOCR_RECOGNIZER_PORT=str(port), **(env or {}))),
                     "/readyz", log, "the recognition server")


def start_ocr(command, ready_path, log, what):
    """`command(port)` → (argv, environment) on a free port, until `ready_path` answers 200 (up to 120 s:
    the models load first); returns (process, url of its /ocr). A port taken between its pick and the
    server's bind (the server exits at once) is picked again."""
    for _ in range(3):
        port = free_port()
        argv, environment = command(port)
        proc = subprocess.Popen(argv, env=environment, stdout=log, stderr=subprocess.STDOUT)
        ready = lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status == 200
        if wait_for(lambda: proc.poll() is not None or ready(), 120) and proc.poll() is None:
            return proc, f"http://127.0.0.1:{port}/ocr"
        stop([proc])
    raise RuntimeError(f"{what} did not start; see its log")


def cpu_seconds(proc):
    """User and system CPU seconds a running child has used (/proc)."""
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_ocr_server(kind, log, workers=1):
    """The recognizer behind RAPIDOCR_URL: "ours" (start_recognizer) or "stock" (start_rapidocr)."""
    return start_recognizer(log) if kind == "ours" else start_rapidocr(log, workers=workers)


def start_fake(latency_ms, qps=None, app_key=None, tls=None):
    """The 1429-1 fake (`showapi-fake`) on a free port; returns (process, url of its /1429-1).
    tls: (certificate file, key file) to serve https."""
    args = [os.path.join(BIN, "showapi-fake"), "--port", "0", "--latency-ms", str(latency_ms)]
    if tls:
        args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    if qps:
        args += ["--qps", str(qps)]
    if app_key:
        args += ["--app-key", app_key]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    return proc, url


def start_worker(redis_url, queue, env, log=None, binary=None):
    """`idcard-ocr worker` with the contract's environment over this process's."""
    full = dict(os.environ, IDOCR_REDIS_URL=redis_url, IDOCR_QUEUE=queue, IDOCR_METRICS_PORT="0")
    full.update(env)
    return subprocess.Popen([binary or os.path.join(BIN, "idcard-ocr"), "worker"], env=full, stdout=log, stderr=subprocess.STDOUT)


def json_line(line):
    """One JSON log line as a dict; {} for anything else (a plain line, a fragment)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def start_dashboard(redis_url, queue, env, log, binary=None, timeout=30):
    """`idcard-ocr dashboard` on a free port (IDOCR_DASHBOARD_PORT=0) with the contract's environment
    over this process's; returns (process, url) once it logs "dashboard listening" with its url.
    `log`: a list; a thread appends every line it prints (stdout and stderr), before and after,
    until it exits, so that its audit lines can be asserted. Raises RuntimeError, with its last
    lines, when it exits first or has not said so within `timeout` seconds."""
    full = dict(os.environ, IDOCR_REDIS_URL=redis_url, IDOCR_QUEUE=queue, IDOCR_DASHBOARD_HOST="127.0.0.1", IDOCR_DASHBOARD_PORT="0")
    full.update(env)
    proc = subprocess.Popen([binary or os.path.join(BIN, "idcard-ocr"), "dashboard"], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
    listening = {}
    said = threading.Event()

    def read():
        for line in proc.stdout:
            log.append(line.rstrip("\n"))
            entry = json_line(line)
            if not said.is_set() and entry.get("message") == "dashboard listening":
                listening["url"] = entry.get("url")
                said.set()
        proc.stdout.close()
        said.set()  # its end of output: it exited, or closed stdout

    reader = threading.Thread(target=read, name="dashboard log", daemon=True)
    reader.start()
    said.wait(timeout)
    if listening.get("url"):
        return proc, listening["url"].rstrip("/")
    if said.is_set() and not listening:  # its output ended: give its exit status a moment
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    if listening:
        problem = 'logged "dashboard listening" without a "url"'
    elif proc.poll() is not None:
        problem = f"exited with status {proc.returncode} before listening"
    else:
        problem = f'logged no "dashboard listening" within {timeout} s'
    stop([proc], timeout=5)
    reader.join(2)
    tail = "\n    ".join(log[-15:]) or "(nothing)"
    raise RuntimeError(f"`idcard-ocr dashboard` {problem}; its last lines:\n    {tail}")


def stop(procs, timeout=30):
    """SIGTERM, then SIGKILL for whatever has not exited after timeout seconds."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
