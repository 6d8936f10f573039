"""The warm chart renderer: one Chromium, started once per process (web
worker or queue worker) and kept, that turns plotly figures into SVG for the
PDF reports, about 0.1 s a chart instead of ~2 s for a browser start.

kaleido's own ``start_sync_server`` keeps a browser the same way, but a
browser that is missing or dies there leaves its callers waiting forever;
this renderer runs kaleido on its own event loop thread and waits for each
answer with a timeout, so a missing or crashed Chromium becomes
``RendererUnavailable`` (the views answer 503), is logged, and the next
report starts a fresh browser.
"""

import asyncio
import logging
import threading

import kaleido

log = logging.getLogger(__name__)

# Seconds to start the browser, and to render one report's charts.
START_TIMEOUT = 60
CHART_TIMEOUT = 30
# Browser tabs drawing at once: a report's charts are drawn side by side.
TABS = 3


class RendererUnavailable(Exception):
    """Chromium could not be started or stopped answering."""


class ChartRenderer:
    def __init__(self):
        self._lock = threading.Lock()
        self._loop = None
        self._thread = None
        self._kaleido = None

    @property
    def running(self):
        return self._kaleido is not None

    def _call(self, coroutine, timeout):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _start(self):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chart-renderer", daemon=True)
        self._thread.start()

        async def open_browser():
            browser = kaleido.Kaleido(n=TABS, timeout=CHART_TIMEOUT, mathjax=False)
            await browser.open()
            return browser

        self._kaleido = self._call(open_browser(), START_TIMEOUT)
        log.info("chart renderer started")

    def _stop(self):
        """Close the browser (if it still answers) and the loop thread."""
        browser, loop = self._kaleido, self._loop
        self._kaleido = None
        if loop is None:
            return
        if browser is not None:
            try:
                asyncio.run_coroutine_threadsafe(browser.close(), loop).result(10)
            except Exception:  # noqa: BLE001 - a dead browser may not close cleanly; the loop goes anyway
                log.warning("chart renderer: the browser did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = self._thread = None

    def start(self):
        """Start the browser now (a queue worker warms it before the first report)."""
        with self._lock:
            if not self.running:
                self._start()

    def stop(self):
        with self._lock:
            self._stop()

    def svgs(self, figures, width=720, height=280):
        """SVG bytes of each plotly figure, in order."""
        with self._lock:
            try:
                if not self.running:
                    self._start()
                opts = {"format": "svg", "width": width, "height": height}

                async def draw_all():
                    return await asyncio.gather(*(self._kaleido.calc_fig(fig, opts=opts) for fig in figures))

                return list(self._call(draw_all(), CHART_TIMEOUT))
            except Exception as exc:
                log.error("chart renderer failed (%s: %s); it restarts on the next report", type(exc).__name__, exc)
                self._stop()
                raise RendererUnavailable(
                    "The chart renderer (Chromium) is unavailable; the PDF could not be made. Try again shortly."
                ) from exc


# One per process: the web worker's and the queue worker's own warm browser.
renderer = ChartRenderer()
