"""The dashboard (`idcard-ocr dashboard`) in a real browser, against its route and HTML contract.

Real processes per test class, on free loopback ports: a redis-server, the 1429-1 fake (300 ms an
answer), one `idcard-ocr worker` and the dashboard, with a users file of four users, one per role
(admin, operator, viewer, revealer), and a queue of the class's own. One headless Chromium for the
whole file (Debian's, through its own chromedriver: Selenium Manager never reaches the network).

Checks: nothing without a session; the queue page updating in place (no reload) and drawing its
chart; dead letters requeued, purged only on the queue's name; personal data masked on every page,
revealed one field at a time for the reveal role and audited without the value; read-only roles
and the read-only mode refused with 403; CSRF; pause and resume; the security headers, and pages
that keep to their Content-Security-Policy. Screenshots of each page go to $IDOCR_SCREENSHOTS
(default .build/dashboard-screenshots/), the dashboards' and workers' logs beside them.

Synthetic data only. Needs `swift build` (the binaries) and `scripts/setup` (chromium,
chromium-driver, selenium in .venv); scripts/browser-tests runs it:

    .venv/bin/python -m unittest discover -s Tests/Browser -v
"""
import base64, json, math, os, random, re, shutil, struct, subprocess, sys, tempfile, time, unittest, urllib.parse

import redis
import requests

os.environ["SE_OFFLINE"] = "true"  # before selenium: its manager must not look for drivers online
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import harness  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
IDCARD_OCR = os.path.join(harness.BIN, "idcard-ocr")
ARTIFACTS = os.environ.get("IDOCR_SCREENSHOTS") or os.path.join(ROOT, ".build", "dashboard-screenshots")
APP_KEY = "test-app-key"  # the 1429-1 fake's and the worker's
ROLES = {"admin": "admin", "operator": "operator", "viewer": "viewer", "revealer": "revealer"}
# The standard example number (valid checksum, no person's), a made-up name and address.
CARD = {"name": "测试明", "sex": "女", "nationality": "汉", "birthday": "1949-12-31",
        "addr": "北京市朝阳区测试路1号", "idNo": "11010519491231002X"}
# How the job page shows CARD without a reveal (the contract's masks).
MASKED = {"name": "测*明", "idNo": "1101**********002X", "addr": "北京市朝阳区…", "birthday": "1949-**-**"}
PERSONAL = ("name", "addr", "idNo")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
# Chromium's words for a blocked script, style, connection or frame ("Refused to …", "… violates the
# following Content Security Policy directive …").
CSP_VIOLATION = re.compile(r"Content Security Policy|Refused to", re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I)
WAIT = 20  # seconds: the longest any one step may take

BROWSER = None  # the file's one Chromium (setUpModule)


def setUpModule():
    global BROWSER
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"no {path}: run scripts/setup (Debian's chromium and chromium-driver)")
    BROWSER = start_browser()
    unittest.addModuleCleanup(BROWSER.quit)
    os.makedirs(ARTIFACTS, exist_ok=True)


def start_browser():
    """Headless Chromium through Debian's chromedriver, a 1280x900 window and viewport (what a
    screenshot shows), its console log kept; every page load has a deadline."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    # --window-size counts the (invisible) browser frame; the page itself gets 1280x900 this way.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(10)
    return driver


def password(user):
    return f"{user}-password-1"


def write_users_file(path):
    """A users file with one user per role, each line from `idcard-ocr dashboard-user` (cost 10: fast hashes)."""
    lines = []
    for name, role in ROLES.items():
        made = subprocess.run([IDCARD_OCR, "dashboard-user", name, "--role", role, "--cost", "10"], input=password(name),
                              capture_output=True, text=True, timeout=60)
        if made.returncode != 0 or not made.stdout.strip():
            raise RuntimeError(f"`idcard-ocr dashboard-user {name} --role {role}` failed (status {made.returncode}): "
                               f"{(made.stderr or made.stdout).strip()[-400:]}")
        lines.append(made.stdout.strip())
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def synthetic_card(rng):
    """A card with a valid number (as scripts/acceptance makes them): never a real person's."""
    year, month, day, seq = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28), rng.randint(1, 999)
    body = rng.choice(["110105", "310104", "420111", "440305"]) + f"{year:04d}{month:02d}{day:02d}{seq:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]
    return {"name": rng.choice("赵钱孙李周吴郑王") + rng.choice("伟芳娜敏静丽强磊") + rng.choice("华明"), "sex": "男" if seq % 2 else "女",
            "nationality": "汉", "birthday": f"{year:04d}-{month:02d}-{day:02d}", "addr": f"测试省示例市和平街{rng.randint(1, 999)}号",
            "idNo": body + check}


def png_size(path):
    """(width, height) of a PNG file; None when it is not one."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def redirect_path(answer):
    """The path a redirect answer points to (its Location, absolute or not), without the query."""
    return urllib.parse.urlparse(answer.headers.get("Location", "")).path


class DashboardCase(unittest.TestCase):
    """A queue of the class's own with its redis-server, 1429-1 fake, worker and dashboard
    (setUpClass); class cleanups tear them down even when setting up fails half way."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="idocr-browser-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.queue = f"browser-{cls.__name__.lower()}-{random.randint(0, 1 << 30)}"
        redis_server, cls.redis_url, port = harness.start_redis(cls.dir)
        cls.addClassCleanup(harness.stop, [redis_server])
        cls.redis = redis.Redis(port=port)
        cls.addClassCleanup(cls.redis.close)
        if not harness.wait_for(cls.redis.ping, 10):
            raise RuntimeError("redis-server did not answer within 10 s")
        fake, fake_url = harness.start_fake(latency_ms=300, app_key=APP_KEY)
        cls.addClassCleanup(fake.stdout.close)
        cls.addClassCleanup(harness.stop, [fake])
        worker_log = open(os.path.join(ARTIFACTS, f"{cls.__name__}-worker.log"), "w")
        cls.addClassCleanup(worker_log.close)
        cls.worker_id = f"{cls.queue}-worker"
        worker = harness.start_worker(cls.redis_url, cls.queue, {
            "IDOCR_PROVIDER": "showapi", "SHOWAPI_URL": fake_url, "SHOWAPI_APP_KEY": APP_KEY, "IDOCR_CONCURRENCY": "2",
            "IDOCR_WORKER_ID": cls.worker_id}, worker_log)
        cls.addClassCleanup(harness.stop, [worker])
        cls.users_file = write_users_file(os.path.join(cls.dir, "users"))
        cls.url, cls.dashboard_log = cls.start_dashboard()
        # First of the cleanups: no page left polling a dashboard that is gone.
        cls.addClassCleanup(BROWSER.get, "about:blank")

    @classmethod
    def start_dashboard(cls, extra=None, name="dashboard"):
        """A dashboard on the class's queue (more environment in `extra`), stopped by a class cleanup;
        returns (url, its log lines), the log also saved beside the screenshots at the end."""
        log = []
        env = {"IDOCR_DASHBOARD_USERS_FILE": cls.users_file, **(extra or {})}
        proc, url = harness.start_dashboard(cls.redis_url, cls.queue, env, log)
        cls.addClassCleanup(cls.save_log, log, f"{cls.__name__}-{name}.log")
        cls.addClassCleanup(harness.stop, [proc])
        return url, log

    @staticmethod
    def save_log(lines, file_name):
        with open(os.path.join(ARTIFACTS, file_name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    # Redis: jobs in, results and dead letters out.

    @classmethod
    def key(cls, suffix):
        """The Redis key `suffix` of the class's queue (default prefix)."""
        return f"idocr:{{{cls.queue}}}:{suffix}"

    @classmethod
    def push(cls, job_id, card=CARD, script=(), into=None):
        """One job of a fake image the 1429-1 fake answers with `card` after `script`'s answers, as a
        producer pushes it (`into`: a pipeline instead of the connection)."""
        image = harness.fake_image(card, job_id, script=script)
        job = {"id": job_id, "imgData": base64.b64encode(image).decode(), "type": "1", "enqueuedAt": int(time.time() * 1000)}
        (into or cls.redis).lpush(cls.key("pending"), json.dumps(job, ensure_ascii=False))

    @classmethod
    def result(cls, job_id):
        raw = cls.redis.get(cls.key(f"result:{job_id}"))
        return json.loads(raw) if raw else {}

    @classmethod
    def dead_ids(cls):
        letters = [json.loads(element) for element in cls.redis.lrange(cls.key("dead"), 0, -1)]
        return [letter.get("id") or (letter.get("job") or {}).get("id") for letter in letters]

    def pending_ids(self):
        return [json.loads(element).get("id") for element in self.redis.lrange(self.key("pending"), 0, -1)]

    @classmethod
    def wait_succeeded(cls, *job_ids):
        if not harness.wait_for(lambda: all(cls.result(i).get("status") == "succeeded" for i in job_ids), WAIT):
            statuses = {i: cls.result(i).get("status") for i in job_ids}
            raise AssertionError(f"jobs not succeeded within {WAIT} s: {statuses}")

    @classmethod
    def push_dead(cls, *job_ids):
        """Jobs that die at once with not_recognized (the fake answers CARD on the next call); waits
        for their dead letters."""
        for job_id in job_ids:
            cls.push(job_id, script=["not_recognized"])
        if not harness.wait_for(lambda: set(job_ids) <= set(cls.dead_ids()), WAIT):
            raise AssertionError(f"no dead letters for {job_ids} within {WAIT} s (dead list: {cls.dead_ids()})")

    # The browser.

    def open(self, path, url=None):
        BROWSER.get((url or self.url) + path)

    def where(self):
        return f"{BROWSER.current_url} ({BROWSER.title!r})"

    def wait_css(self, css, timeout=10):
        """The first element matching `css` on the page, once there is one; fails after `timeout` s."""
        found = []
        if not harness.wait_for(lambda: found.append(BROWSER.find_element(By.CSS_SELECTOR, css)) or True, timeout):
            self.fail(f"no {css} on {self.where()} within {timeout} s")
        return found[-1]

    def absent(self, css):
        return not BROWSER.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return BROWSER.find_element(By.CSS_SELECTOR, css).text.strip()

    def field_text(self, field):
        """What dd[data-field=F] shows of the value: its text without a reveal form inside it."""
        return BROWSER.execute_script("""const dd = document.querySelector(`dd[data-field="${arguments[0]}"]`).cloneNode(true);
            dd.querySelectorAll("form, button").forEach(e => e.remove());
            return dd.textContent.trim();""", field)

    def click_and_wait(self, element, what):
        """Clicks `element` and waits for the next page to load: a document without the marker
        set on this one, fully loaded. (Not selenium's staleness_of: while a navigation is under
        way chromedriver may answer its probe with an inspector error instead of "stale".)"""
        marker = f"page-{random.random()}"
        BROWSER.execute_script("window.__idocrPage = arguments[0];", marker)
        element.click()

        def next_page_loaded(driver):
            try:
                return driver.execute_script("return window.__idocrPage !== arguments[0] && document.readyState === 'complete';", marker)
            except WebDriverException:
                return False  # the old document is going away
        try:
            WebDriverWait(BROWSER, WAIT).until(next_page_loaded)
        except TimeoutException:
            self.fail(f"{what}: no new page within {WAIT} s (still {self.where()})")
        self.wait_css("body")

    def submit(self, form_css, what=None, **fields):
        """Fills a form's fields (name → text), then clicks its submit button and waits for the answer."""
        form = self.wait_css(form_css)
        for name, value in fields.items():
            box = form.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
            box.clear()
            box.send_keys(value)
        button = form.find_element(By.CSS_SELECTOR, "button:not([type=button]):not([type=reset]), input[type=submit]")
        self.click_and_wait(button, what or f"submitting {form_css}")

    def login(self, user, url=None):
        """`user` logs in through the login form, from no session (the browser's cookies cleared)."""
        BROWSER.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.open("/login", url)
        self.submit("form#login", f"{user} logging in", user=user, password=password(user))
        answered = lambda: BROWSER.find_elements(By.CSS_SELECTOR, "#user, #refused, .error")
        harness.wait_for(answered, 10)
        if self.absent("#user"):
            said = [e.text.strip() for e in BROWSER.find_elements(By.CSS_SELECTOR, "#refused, .error")]
            self.fail(f"{user} could not log in through the form: {self.where()} says {said}")
        shown = self.text("#user")
        self.assertIn(user, shown, f"#user after {user} logged in says {shown!r} ({self.where()})")

    def reveal(self, field):
        """Clicks the job page's reveal form for `field`; waits for the page showing it revealed."""
        forms = {f.find_element(By.CSS_SELECTOR, "input[name=field]").get_attribute("value"): f
                 for f in BROWSER.find_elements(By.CSS_SELECTOR, "form.reveal")}
        self.assertIn(field, forms, f"no form.reveal for {field} on {self.where()} (forms for {sorted(forms)})")
        button = forms[field].find_element(By.CSS_SELECTOR, "button:not([type=button]):not([type=reset]), input[type=submit]")
        self.click_and_wait(button, f"revealing {field}")
        self.wait_css(f'dd[data-field="{field}"].revealed')

    def flash(self):
        return self.wait_css("#flash").text.strip()

    def assert_flash(self, expected):
        self.assertIn(expected, self.flash(), f"#flash after the action ({self.where()})")

    def assert_not_shown(self, value, text, what):
        """Fails with `what` and the place it is shown (not the whole page) when `value` is in `text`."""
        at = text.find(value)
        if at >= 0:
            self.fail(f"{what}: …{text[max(0, at - 80):at + len(value) + 20]}…")

    def assert_masked(self, page, cards=(CARD,)):
        """No card's full name, address or number anywhere in the page's DOM."""
        source = BROWSER.page_source
        for card in cards:
            for field in PERSONAL:
                self.assert_not_shown(card[field], source, f"{page}: the full {field} of a card is in the page ({self.where()})")

    def assert_job_fields_masked(self, page):
        """The job page of CARD's job shows the contract's masks."""
        for field, shown in MASKED.items():
            self.assertEqual(self.field_text(field), shown, f"{page}: dd[data-field={field}] ({self.where()})")
        self.assert_masked(page)

    def csrf_token(self):
        return self.wait_css("meta[name=csrf-token]").get_attribute("content")

    def post(self, path, fields, csrf=True, url=None):
        """A POST with the browser's cookies (its session) through requests, redirects not followed;
        `csrf`: with the page's token."""
        data = dict(fields, csrf=self.csrf_token()) if csrf else dict(fields)
        cookies = {c["name"]: c["value"] for c in BROWSER.get_cookies()}
        return requests.post((url or self.url) + path, data=data, cookies=cookies, allow_redirects=False, timeout=15)

    def get(self, path, session=True):
        """A GET through requests, with the browser's cookies unless `session` is false."""
        cookies = {c["name"]: c["value"] for c in BROWSER.get_cookies()} if session else {}
        return requests.get(self.url + path, cookies=cookies, allow_redirects=False, timeout=15)

    def assert_refused(self, answer, what):
        self.assertEqual(answer.status_code, 403, f"{what}: answered {answer.status_code}, not 403")
        self.assertRegex(answer.text, r"""id=["']?refused\b""", f"{what}: the 403 page has no #refused")

    # The dashboard's log.

    def audit(self, log=None, **fields):
        """The dashboard's audit lines (parsed) carrying every one of `fields`."""
        entries = [harness.json_line(line) for line in list(self.dashboard_log if log is None else log)]
        return [e for e in entries if str(e.get("audit")).lower() == "true" and all(e.get(k) == v for k, v in fields.items())]

    def assert_audited(self, log=None, **fields):
        if not harness.wait_for(lambda: self.audit(log, **fields), 5):
            seen = [{k: e.get(k) for k in ("event", "user", "queue", "field", "job")} for e in self.audit(log)]
            self.fail(f"no audit line with {fields} in the dashboard's log within 5 s; its audit lines: {seen}")


class AnonymousTests(DashboardCase):
    """Without a session: the login page only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.push("anon-ok")
        cls.push_dead("anon-dead")
        cls.wait_succeeded("anon-ok")

    def assert_nothing_shown(self, answer, what):
        for marker in [CARD[f] for f in PERSONAL] + [MASKED["idNo"], "data-stat", "not_recognized", '"pending"', "dead-letters"]:
            self.assert_not_shown(marker, answer.text, f"{what} without a session: its body shows {marker!r}")

    def test_pages_redirect_to_login(self):
        for path in ("/", f"/queues/{self.queue}", f"/queues/{self.queue}/dead", f"/queues/{self.queue}/dead/purge",
                     f"/queues/{self.queue}/jobs/anon-ok", f"/queues/{self.queue}/jobs/anon-dead"):
            with self.subTest(path=path):
                answer = self.get(path, session=False)
                self.assertEqual(answer.status_code, 303, f"GET {path} without a session answered {answer.status_code}")
                self.assertEqual(redirect_path(answer), "/login", f"GET {path} without a session: Location {answer.headers.get('Location')!r}")
                self.assert_nothing_shown(answer, f"GET {path}")

    def test_api_refuses(self):
        for path in (f"/api/queues/{self.queue}/stats", f"/api/queues/{self.queue}/history"):
            with self.subTest(path=path):
                answer = self.get(path, session=False)
                redirected = answer.status_code == 303 and redirect_path(answer) == "/login"
                self.assertTrue(redirected or answer.status_code == 401,
                                f"GET {path} without a session answered {answer.status_code} {answer.headers.get('Location', '')}, not 401 or 303 to /login")
                self.assert_nothing_shown(answer, f"GET {path}")

    def test_actions_refused(self):
        before = self.redis.llen(self.key("dead"))
        answer = requests.post(f"{self.url}/queues/{self.queue}/dead/requeue", data={"id": "anon-dead"}, allow_redirects=False, timeout=15)
        self.assertIn(answer.status_code, (303, 401, 403), f"a requeue without a session answered {answer.status_code}")
        self.assertEqual(self.redis.llen(self.key("dead")), before, "a requeue without a session moved dead letters")
        self.assertIn("anon-dead", self.dead_ids())

    def test_wrong_password(self):
        BROWSER.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.open("/login")
        self.submit("form#login", "a wrong password", user="operator", password="not-the-password")
        self.wait_css(".error")
        self.assertTrue(self.absent("#user"), f"a wrong password logged in ({self.where()})")
        self.assert_audited(event="login_failed", user="operator")
        self.assertFalse([l for l in self.dashboard_log if "not-the-password" in l], "a tried password is in the dashboard's log")


class LiveQueueTests(DashboardCase):
    """The overview, and the queue page following the queue without a reload."""

    def test_overview_lists_the_queue(self):
        self.login("operator")
        row = self.wait_css(f'table#queues tr[data-queue="{self.queue}"]')
        for stat in ("pending", "processing", "delayed", "dead", "workers"):
            self.assertTrue(row.find_elements(By.CSS_SELECTOR, f'td[data-stat="{stat}"]'), f"the overview's row has no td[data-stat={stat}]")
        link = row.find_element(By.CSS_SELECTOR, "a.queue-link")
        self.assertEqual(urllib.parse.urlparse(link.get_attribute("href")).path, f"/queues/{self.queue}")
        self.click_and_wait(link, "the queue's link")
        self.wait_css('[data-stat="pending"]')

    def test_queue_page_updates_in_place(self):
        self.login("operator")
        self.open(f"/queues/{self.queue}")
        self.wait_css(f'table#workers tr[data-worker="{self.worker_id}"]', timeout=WAIT)
        BROWSER.execute_script("window.__noReload = 1")
        succeeded, pending = self.text('[data-stat="succeeded"]'), self.text('[data-stat="pending"]')
        pipe = self.redis.pipeline()
        rng = random.Random(3)
        for i in range(40):
            self.push(f"live-{i}", synthetic_card(rng), into=pipe)
        pipe.execute()
        seen = set()

        def moved():
            seen.add(self.text('[data-stat="pending"]'))
            return self.text('[data-stat="succeeded"]') != succeeded and seen - {pending}

        self.assertTrue(harness.wait_for(lambda: self.reloaded() or moved(), WAIT), f"in {WAIT} s [data-stat=succeeded] stayed {succeeded!r} "
                        f"(now {self.text('[data-stat=succeeded]')!r}) or pending never left {pending!r} (seen {sorted(seen)})")
        self.assertFalse(self.reloaded(), "the queue page reloaded to update its figures")

        def drawn():
            marks = BROWSER.find_elements(By.CSS_SELECTOR, "svg#history-chart path, svg#history-chart polyline")
            return any((m.get_attribute("d") or m.get_attribute("points") or "").strip() for m in marks)

        self.assertTrue(harness.wait_for(lambda: self.reloaded() or drawn(), WAIT), f"svg#history-chart drew no path or polyline within {WAIT} s")
        self.assertFalse(self.reloaded(), "the queue page reloaded to draw its chart")
        # Three more refresh periods: a page that reloads itself (a meta refresh, location.reload) shows here.
        self.assertFalse(harness.wait_for(self.reloaded, 6), "the queue page reloaded while the queue drained")

    @staticmethod
    def reloaded():
        """Whether the page set up with window.__noReload = 1 has been loaded again since."""
        return BROWSER.execute_script("return window.__noReload") != 1


class DeadLetterTests(DashboardCase):
    """Requeue and purge from the dead list; what viewers, the read-only mode and CSRF stop."""

    def test_requeue_selected(self):
        self.push_dead("dead-requeue")
        self.login("operator")
        self.open(f"/queues/{self.queue}")
        self.click_and_wait(self.wait_css("a#dead-link"), "the dead list's link")
        row = self.wait_css('table#dead-letters tr[data-job="dead-requeue"]')
        self.assertEqual(row.find_element(By.CSS_SELECTOR, "td.code").text.strip(), "not_recognized", "the dead letter's code")
        # The checkbox carries a reference to the job, not its id (an id may hold an ID number).
        box = row.find_element(By.CSS_SELECTOR, "input[type=checkbox][name=id]")
        self.assertNotIn("dead-requeue", box.get_attribute("value"), "the checkbox carries the job's id")
        box.click()
        self.click_and_wait(self.wait_css("#requeue-selected-button"), "requeue selected")
        self.assert_flash("requeued 1")
        self.assert_audited(event="requeue", user="operator", queue=self.queue)
        self.wait_succeeded("dead-requeue")
        self.open(f"/queues/{self.queue}/jobs/dead-requeue")
        self.assertEqual(self.wait_css("#job-status").text.strip(), "succeeded", f"the requeued job's page ({self.where()})")
        self.assert_job_fields_masked("the requeued job's page")

    def test_purge_needs_the_queue_name(self):
        self.push_dead("dead-purge-1", "dead-purge-2")
        self.login("operator")
        before = self.redis.llen(self.key("dead"))
        self.open(f"/queues/{self.queue}/dead")
        self.click_and_wait(self.wait_css("a#purge-link"), "the purge link")
        self.submit("form#purge", "purge with a wrong name", confirm=f"not-{self.queue}")
        self.assertEqual(self.redis.llen(self.key("dead")), before, "a purge confirmed with a wrong name dropped dead letters")
        said = " ".join(e.text for e in BROWSER.find_elements(By.CSS_SELECTOR, "#flash"))
        self.assertNotRegex(said, r"\bpurged \d", "a purge confirmed with a wrong name says it purged")
        self.open(f"/queues/{self.queue}/dead")
        self.click_and_wait(self.wait_css("a#purge-link"), "the purge link")
        self.submit("form#purge", "purge with the queue's name", confirm=self.queue)
        self.assert_flash(f"purged {before}")
        self.assertEqual(self.redis.llen(self.key("dead")), 0, "dead letters left after the purge")
        self.assert_audited(event="purge", user="operator", queue=self.queue)

    def test_viewer_cannot_requeue(self):
        self.push_dead("dead-viewer")
        self.login("viewer")
        self.open(f"/queues/{self.queue}/dead")
        self.wait_css('tr[data-job="dead-viewer"]')
        for css in ("form#requeue-selected", "form#requeue-code", "#requeue-selected-button"):
            self.assertTrue(self.absent(css), f"a viewer's dead list shows {css}")
        before = self.redis.llen(self.key("dead"))
        self.assert_refused(self.post(f"/queues/{self.queue}/dead/requeue", {"id": "dead-viewer"}), "a viewer's requeue")
        self.assertEqual(self.redis.llen(self.key("dead")), before, "a viewer's refused requeue moved dead letters")
        self.assertIn("dead-viewer", self.dead_ids())
        self.assert_audited(event="refused", user="viewer")

    def test_read_only_mode_refuses_operators(self):
        self.push_dead("dead-read-only")
        url, log = self.start_dashboard({"IDOCR_DASHBOARD_READ_ONLY": "1"}, name="read-only-dashboard")
        self.login("operator", url)
        self.open(f"/queues/{self.queue}", url)
        self.wait_css("#queue-state")
        self.assertTrue(self.absent("form#pause") and self.absent("form#resume"), "the read-only dashboard shows pause or resume")
        self.open(f"/queues/{self.queue}/dead", url)
        self.wait_css('tr[data-job="dead-read-only"]')
        for css in ("form#requeue-selected", "form#requeue-code"):
            self.assertTrue(self.absent(css), f"the read-only dashboard shows {css}")
        before = self.redis.llen(self.key("dead"))
        self.assert_refused(self.post(f"/queues/{self.queue}/dead/requeue", {"id": "dead-read-only"}, url=url),
                            "an operator's requeue on the read-only dashboard")
        self.assertEqual(self.redis.llen(self.key("dead")), before, "the read-only dashboard moved dead letters")
        self.assertIn("dead-read-only", self.dead_ids())

    def test_csrf_token_required(self):
        self.push_dead("dead-csrf")
        self.login("operator")
        self.open(f"/queues/{self.queue}/dead")
        token = self.csrf_token()
        before = self.redis.llen(self.key("dead"))
        attempts = [("a requeue without csrf", "requeue", {"id": "dead-csrf"}),
                    ("a requeue with a wrong csrf", "requeue", {"id": "dead-csrf", "csrf": "wrong" + token}),
                    ("a purge without csrf", "purge", {"confirm": self.queue}),
                    ("a purge with a wrong csrf", "purge", {"confirm": self.queue, "csrf": "wrong" + token})]
        for what, action, fields in attempts:
            with self.subTest(what=what):
                answer = self.post(f"/queues/{self.queue}/dead/{action}", fields, csrf=False)
                self.assertEqual(answer.status_code, 403, f"{what}: answered {answer.status_code}, not 403")
                self.assertEqual(self.redis.llen(self.key("dead")), before, f"{what} moved dead letters")
        self.assertIn("dead-csrf", self.dead_ids())


class MaskingTests(DashboardCase):
    """Personal data masked on every page, revealed one field at a time, audited without the value."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = random.Random(5)
        cls.cards = [CARD] + [synthetic_card(rng) for _ in range(5)]
        cls.push("masked-ok")
        for i, card in enumerate(cls.cards[1:]):
            cls.push(f"masked-{i}", card)
        cls.push_dead("masked-dead")
        cls.wait_succeeded("masked-ok", *[f"masked-{i}" for i in range(len(cls.cards) - 1)])

    def pages(self):
        q = self.queue
        return [("the overview", "/"), ("the queue page", f"/queues/{q}"), ("the dead list", f"/queues/{q}/dead"),
                ("a succeeded job's page", f"/queues/{q}/jobs/masked-ok"), ("a dead job's page", f"/queues/{q}/jobs/masked-dead")]

    def test_masked_everywhere(self):
        for user in ("viewer", "operator"):
            with self.subTest(user=user):
                self.login(user)
                for page, path in self.pages():
                    self.open(path)
                    self.wait_css("#user")
                    self.assert_masked(f"{page} as {user}", self.cards)
                    self.assertTrue(self.absent("form.reveal"), f"{page} offers {user} a reveal")
                self.open(f"/queues/{self.queue}/jobs/masked-ok")
                self.assertEqual(self.text("#job-status"), "succeeded")
                self.assert_job_fields_masked(f"the job page as {user}")
                self.open(f"/queues/{self.queue}/jobs/masked-dead")
                self.assertEqual(self.text("#job-status"), "failed", f"the dead job's page ({self.where()})")
                for path in (f"/api/queues/{self.queue}/stats", f"/api/queues/{self.queue}/history"):
                    answer = self.get(path)
                    self.assertEqual(answer.status_code, 200, f"GET {path} as {user}")
                    for card in self.cards:
                        for field in PERSONAL:
                            self.assert_not_shown(card[field], answer.text, f"GET {path} as {user} shows a full {field}")

    def test_reveal_one_field(self):
        self.login("revealer")
        self.open(f"/queues/{self.queue}/jobs/masked-ok")
        self.assert_job_fields_masked("the job page before a reveal")
        self.reveal("idNo")
        self.assertEqual(self.field_text("idNo"), CARD["idNo"], "the revealed number")
        self.assertEqual(self.field_text("name"), MASKED["name"], "the name after revealing idNo")
        self.assertEqual(self.field_text("addr"), MASKED["addr"], "the address after revealing idNo")
        source = BROWSER.page_source
        for field in ("name", "addr"):
            self.assert_not_shown(CARD[field], source, f"revealing idNo showed the full {field} too")
        self.assertEqual(len(BROWSER.find_elements(By.CSS_SELECTOR, "dd.revealed")), 1, "more than one field revealed")
        self.assert_audited(event="reveal", user="revealer", field="idNo", job="masked-ok", queue=self.queue)
        leaked = [line for line in self.dashboard_log if CARD["idNo"] in line]
        self.assertEqual(leaked, [], "the revealed number is in the dashboard's log")

    def test_reveal_refused_without_the_role(self):
        for user in ("viewer", "operator"):
            with self.subTest(user=user):
                self.login(user)
                self.open(f"/queues/{self.queue}/jobs/masked-ok")
                answer = self.post(f"/queues/{self.queue}/jobs/masked-ok/reveal", {"field": "idNo"})
                self.assert_refused(answer, f"a reveal by {user}")
                self.assert_not_shown(CARD["idNo"], answer.text, f"the refused reveal by {user} shows the number")


class PauseTests(DashboardCase):
    """Pause holds the queue's jobs; resume lets them go."""

    def test_pause_and_resume(self):
        self.login("operator")
        self.open(f"/queues/{self.queue}")
        self.assertEqual(self.wait_css("#queue-state").text.strip(), "running")
        self.submit("form#pause", "pause")
        self.assert_flash("paused")
        self.assertEqual(self.text("#queue-state"), "paused")
        self.assert_audited(event="pause", user="operator", queue=self.queue)
        self.push("paused-1")
        deadline = time.time() + 3
        while time.time() < deadline:
            self.assertIn("paused-1", self.pending_ids(), "a worker took a job of the paused queue")
            time.sleep(0.2)
        self.assertEqual(self.result("paused-1"), {}, "the paused queue's job has a result")
        self.submit("form#resume", "resume")
        self.assert_flash("resumed")
        self.assertEqual(self.text("#queue-state"), "running")
        self.assert_audited(event="resume", user="operator", queue=self.queue)
        self.wait_succeeded("paused-1")


class PageTests(DashboardCase):
    """Security headers on every answer, pages within their CSP, and the screenshots."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(6):
            cls.push(f"tour-{i}", synthetic_card(random.Random(i)))
        cls.push("tour-ok")
        cls.push_dead("tour-dead")
        cls.wait_succeeded("tour-ok")

    def tour(self):
        """Every page kind, as (screenshot name, path)."""
        q = self.queue
        return [("overview", "/"), ("queue", f"/queues/{q}"), ("dead-letters", f"/queues/{q}/dead"), ("purge", f"/queues/{q}/dead/purge"),
                ("job-dead", f"/queues/{q}/jobs/tour-dead"), ("job-masked", f"/queues/{q}/jobs/tour-ok")]

    def test_security_headers(self):
        self.login("admin")
        q = self.queue
        answers = [("GET /login", requests.get(f"{self.url}/login", timeout=15)),
                   ("a redirect to /login", self.get("/", session=False)),
                   ("a failed login", requests.post(f"{self.url}/login", data={"user": "admin", "password": "wrong"}, allow_redirects=False, timeout=15)),
                   ("a refused POST", self.post(f"/queues/{q}/dead/requeue", {"id": "tour-dead"}, csrf=False))]
        answers += [(f"GET {path}", self.get(path)) for _, path in self.tour()]
        answers += [(f"GET {path}", self.get(path)) for path in (f"/api/queues/{q}/stats", f"/api/queues/{q}/history", "/static/dashboard.js")]
        for what, answer in answers:
            with self.subTest(answer=what):
                headers = answer.headers
                csp = headers.get("Content-Security-Policy", "")
                self.assertTrue(csp, f"{what} ({answer.status_code}): no Content-Security-Policy")
                self.assertNotIn("'unsafe-inline'", csp, f"{what}: the CSP allows inline code: {csp}")
                self.assertRegex(csp, r"(default|script)-src", f"{what}: the CSP does not restrict scripts: {csp}")
                self.assertEqual(headers.get("X-Frame-Options", "").upper(), "DENY", f"{what}: X-Frame-Options")
                self.assertEqual(headers.get("X-Content-Type-Options", "").lower(), "nosniff", f"{what}: X-Content-Type-Options")
                self.assertEqual(headers.get("Referrer-Policy", "").lower(), "no-referrer", f"{what}: Referrer-Policy")
                if "text/html" in headers.get("Content-Type", ""):
                    self.assertIn("no-store", headers.get("Cache-Control", ""), f"{what}: a page without Cache-Control: no-store")

    def test_pages_keep_to_their_csp(self):
        BROWSER.get_log("browser")  # what earlier tests left
        BROWSER.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.open("/login")
        pages = [("login", BROWSER.page_source)]
        self.login("admin")
        for name, path in self.tour():
            self.open(path)
            self.wait_css("#user")
            if name == "queue":  # dashboard.js's updates: two calls to the stats API, at least
                fetched = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/api/queues/')).length"
                self.assertTrue(harness.wait_for(lambda: BROWSER.execute_script(fetched) >= 2, 10), "the queue page called no /api/queues/ twice in 10 s")
            if name == "job-masked":
                pages.append((name, BROWSER.page_source))
                self.reveal("idNo")
                name = "job-revealed"
            pages.append((name, BROWSER.page_source))
        for name, source in pages:
            self.assertEqual(INLINE_SCRIPT.findall(source), [], f"the {name} page has inline <script>")
        console = BROWSER.get_log("browser")
        violations = [e["message"] for e in console if CSP_VIOLATION.search(e["message"])]
        self.assertEqual(violations, [], "the browser reported Content-Security-Policy violations")
        errors = [e["message"] for e in console if "Uncaught" in e["message"]]
        self.assertEqual(errors, [], "the pages' scripts threw")

    @classmethod
    def seed_an_hour(cls):
        """Samples for the hour before the queue's real ones (a backlog that builds and drains), so
        the screenshot's charts show a shape. The queue's running totals are raised by the hour's
        ends, so the real samples that follow continue them."""
        now_ms = int(time.time() * 1000)
        real = [json.loads(sample) for sample in cls.redis.lrange(cls.key("history"), 0, -1)]
        oldest = min([sample["t"] for sample in real] + [now_ms])
        succeeded = failed = retried = 0
        seeded = []
        for i in range(330):
            minute = i / 6
            backlog = max(0, int(140 * math.sin(math.pi * (minute - 12) / 30))) if 12 <= minute <= 42 else 0
            succeeded += 4 + (6 if backlog else 0)
            failed += 1 if i % 23 == 0 else 0
            retried += 1 if i % 11 == 0 else 0
            seeded.append({"t": oldest - (330 - i) * 10_000, "pending": backlog, "processing": 2 if backlog else 1,
                           "delayed": 1 if i % 11 < 3 else 0, "dead": failed, "workers": 2, "succeeded": succeeded,
                           "failed": failed, "retried": retried})
        cls.redis.hincrby(cls.key("finished"), "succeeded", succeeded)
        cls.redis.hincrby(cls.key("finished"), "failed", failed)
        cls.redis.hincrby(cls.key("finished"), "retried", retried)
        for sample in real:  # raised as the totals are, or the join would read as a drop
            for name, value in (("succeeded", succeeded), ("failed", failed), ("retried", retried)):
                sample[name] += value
        # Newest first: the real samples, then the older hour, its oldest last.
        cls.redis.delete(cls.key("history"))
        cls.redis.rpush(cls.key("history"), *[json.dumps(sample) for sample in real + list(reversed(seeded))])

    def test_screenshots(self):
        self.seed_an_hour()
        shots = []

        def shoot(name):
            path = os.path.join(ARTIFACTS, f"{name}.png")
            BROWSER.save_screenshot(path)
            shots.append(path)

        BROWSER.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.open("/login")
        self.wait_css("form#login")
        shoot("login")
        self.login("admin")
        for name, path in self.tour():
            self.open(path)
            self.wait_css("#user")
            if name == "queue":  # the chart drawn, the figures filled in
                harness.wait_for(lambda: BROWSER.find_elements(By.CSS_SELECTOR, "svg#history-chart path, svg#history-chart polyline"), 10)
            shoot(name)
        self.reveal("idNo")
        shoot("job-revealed")
        for path in shots:
            self.assertEqual(png_size(path), (1280, 900), f"{path}: not a 1280x900 PNG")


if __name__ == "__main__":
    unittest.main()
