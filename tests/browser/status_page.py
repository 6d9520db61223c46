#!/usr/bin/python3
"""The status page in a real browser (headless Debian chromium through chromedriver).

Run by the integration test StatusPageTest.ItDrawsInChromiumAndShowsAReload against a running
shoal: loads the page, waits for two polls, checks the worker rows and the chart, saves
screenshots, sends SIGHUP to the master and waits for the new generation to show, narrows the
window to a phone's width, and checks the browser's network and console logs (no request
leaves the server's origin; no script or CSP error).

Exit status: 0 passed, 1 failed (the reason on stderr), 77 skipped (no browser here).
"""
import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

SKIP = 77


def fail(message):
    print("status_page.py: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def wait(driver, what, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate(driver)
        if last:
            return last
        time.sleep(0.1)
    fail("timed out waiting for " + what + " (last: " + repr(last) + ")")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the status page, e.g. http://127.0.0.1:8080/status")
    parser.add_argument("--master", type=int, required=True, help="the master's pid (SIGHUP)")
    parser.add_argument("--workers", type=int, required=True, help="workers per generation")
    parser.add_argument("--traffic", required=True, help="a URL to request before loading")
    parser.add_argument("--missing", required=True, help="a URL that answers 404")
    parser.add_argument("--out", required=True, help="directory for the screenshots")
    args = parser.parse_args()

    for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(path):
            print("status_page.py: skipped: %s is missing (Debian packages chromium, "
                  "chromium-driver)" % path, file=sys.stderr)
            sys.exit(SKIP)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        print("status_page.py: skipped: python3-selenium is not installed", file=sys.stderr)
        sys.exit(SKIP)

    for _ in range(25):
        urllib.request.urlopen(args.traffic).read()
    for _ in range(3):  # a few 404s beside the 2xx: the chart must keep them visible
        try:
            urllib.request.urlopen(args.missing).read()
        except urllib.error.HTTPError as e:
            if e.code != 404:
                fail("%s answered %d, expected 404" % (args.missing, e.code))

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(args.url)
        wait(driver, "two polls",
             lambda d: int(d.execute_script("return document.body.dataset.polls || 0")) >= 2)

        rows = driver.execute_script(
            "return [...document.querySelectorAll('#workers tbody tr')]"
            ".map(r => [r.dataset.pid, r.dataset.generation, r.cells[3].textContent])")
        if len(rows) != args.workers:
            fail("expected %d worker rows, found %r" % (args.workers, rows))
        if any(r[1] != "1" or "serving" not in r[2] for r in rows):
            fail("expected serving workers of generation 1, found %r" % rows)
        helpers = driver.execute_script("return document.querySelectorAll('#helpers tbody tr').length")
        if helpers != args.workers:
            fail("expected %d helper rows, found %d" % (args.workers, helpers))
        # The chart: a 2xx line through at least two samples, with a non-zero rate somewhere.
        wait(driver, "a 2xx line through two samples", lambda d: d.execute_script(
            "const p = document.querySelector('#chart path[data-class=\"2xx\"]');"
            "return p && (p.getAttribute('d').match(/L/g) || []).length >= 1"))
        # Issue 28: a log scale, so that 3 404s stay off the axis beside the 2xx; a class with
        # nothing in the window (5xx here) is not drawn along zero over the others.
        scale = driver.execute_script("return document.getElementById('chart').dataset.scale")
        if scale != "log":
            fail("the chart's scale is %r, expected log" % scale)
        wait(driver, "a 4xx line that leaves the axis", lambda d: d.execute_script(
            "const p = document.querySelector('#chart path[data-class=\"4xx\"]');"
            "if (!p) return false;"
            "const ys = p.getAttribute('d').split(/[ML]/).filter(Boolean)"
            "  .map(s => parseFloat(s.split(' ')[1]));"
            "return Math.min(...ys) < 220 - 22 - 20"))  # 20 px above the axis at least
        if driver.execute_script("return !!document.querySelector('#chart path[data-class=\"5xx\"]')"):
            fail("a 5xx line is drawn although no 5xx was answered")
        # Times in one form: the browser's local time with its zone.
        started = driver.execute_script("return document.getElementById('started').textContent")
        if "T" in started.split(" ")[1:2] or started.endswith("Z"):
            fail("the start time is not in local form: %r" % started)
        label = driver.execute_script(
            "return [...document.querySelectorAll('.card .label')].map(l => l.textContent)")
        if "Configuration loaded" not in label:
            fail("no card titled 'Configuration loaded' among %r" % label)
        total = driver.execute_script("return document.getElementById('total').dataset.value")
        if not total or not total.isdigit() or int(total) < 28:
            fail("the requests card holds %r, expected at least the 28 requests sent" % total)
        driver.save_screenshot(os.path.join(args.out, "status-page.png"))

        # A reload: the page keeps polling and shows generation 2.
        before = int(driver.execute_script("return document.body.dataset.polls"))
        os.kill(args.master, signal.SIGHUP)
        wait(driver, "generation 2", lambda d: d.execute_script(
            "return document.getElementById('generation').textContent.startsWith('2') &&"
            " document.querySelectorAll('#workers tbody tr[data-generation=\"2\"]').length"
            " == %d" % args.workers))
        reload_result = driver.execute_script("return document.getElementById('reload').textContent")
        if reload_result != "ok":
            fail("the last reload shows %r, expected ok" % reload_result)
        wait(driver, "polls after the reload", lambda d: int(
            d.execute_script("return document.body.dataset.polls")) >= before + 2)
        driver.save_screenshot(os.path.join(args.out, "status-page-reloaded.png"))

        # A phone's width: nothing wider than the window but the tables' own scrolling.
        driver.set_window_size(390, 844)
        polls = int(driver.execute_script("return document.body.dataset.polls"))
        wait(driver, "a poll at phone width", lambda d: int(
            d.execute_script("return document.body.dataset.polls")) > polls)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            fail("at 390 px the page is %d px wider than the window" % overflow)
        driver.save_screenshot(os.path.join(args.out, "status-page-phone.png"))

        origin = args.url.split("/", 3)
        origin = origin[0] + "//" + origin[2] + "/"
        requested = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
        if not requested:
            fail("the performance log shows no request at all")
        foreign = [u for u in requested if not u.startswith(origin) and not u.startswith("data:")]
        if foreign:
            fail("the page requested other origins: %r" % foreign[:5])
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            fail("the console shows errors: %r" % errors[:5])
        print("status_page.py: passed: %d requests, all to %s; screenshots in %s"
              % (len(requested), origin, args.out))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
