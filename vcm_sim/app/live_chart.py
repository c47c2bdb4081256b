"""A chart the browser draws and the server feeds a month at a time.

:class:`LiveChart` is an ipyvue template widget around ECharts (``live_chart.vue``; ECharts
comes from the solara-assets bundle, so the page works offline). The server keeps, per
chart, the points it has sent; :meth:`LiveChart.show` sends only the months added since, or
everything when the run changed or went back (Reset, a new preset). The browser appends what
it is sent and asks for everything again if a message does not follow what it holds (fewer
months than the message assumes, or a newer run than it knows: a message was lost). The
server so draws no image and sends a few numbers a month.
"""

from __future__ import annotations

import threading
from typing import Any

import ipyvuetify
import traitlets

from vcm_sim.app.charts import Points


class LiveChart(ipyvuetify.VuetifyTemplate):
    """An ECharts chart: ``option`` without the series' data, the data sent by
    :meth:`show`."""

    template_file = (__file__, "live_chart.vue")

    option = traitlets.Dict().tag(sync=True)
    """The ECharts option; a series without ``data`` takes the points :meth:`show` sent."""
    snapshot = traitlets.Dict().tag(sync=True)
    """``{"version", "data"}``: every series' points, when the run starts or changes."""
    tail = traitlets.Dict().tag(sync=True)
    """``{"version", "start", "data"}``: the points from month index ``start`` on."""
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._run: object = None
        self._points: Points = []
        self._lock = threading.RLock()
        """Play's thread, the page's and the browser's resync request may all send."""

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn

    def show(self, points: Points, run: object) -> None:
        """Bring the browser up to ``points`` (per series, every month so far) of ``run``
        (any token that compares unequal when the model or the series drawn change): the new
        months only, unless the run changed or has fewer months than were sent."""
        with self._lock:
            held = len(self._points[0]) if self._points else 0
            months = len(points[0]) if points else 0
            if run != self._run or months < held:
                self._run = run
                self._points = points
                self._send_all()
                return
            if months == held:
                return
            self._points = points
            self.tail = {"version": self.snapshot["version"], "start": held,
                         "data": [series[held:] for series in points]}

    def vue_resync(self, _: object = None) -> None:
        """The browser lost count: send everything again."""
        with self._lock:
            self._send_all()

    def _send_all(self) -> None:
        version = self.snapshot.get("version", -1) + 1
        self.snapshot = {"version": version, "data": self._points}
