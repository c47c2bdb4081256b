"""The instructor's page: a Mesa ``SolaraViz`` page over :class:`vcm_sim.model.VCMModel`.

``vcm-sim demo`` serves it (:mod:`vcm_sim.app.cli`); ``solara run vcm_sim.app.page`` does too.
:mod:`vcm_sim.app.settings` turns the page's controls into a scenario, :mod:`vcm_sim.app.charts`
defines the charts, which the browser draws (:mod:`vcm_sim.app.live_chart`), and
:mod:`vcm_sim.app.page` lays out the page. Nothing in the model imports this
package, and importing it does not import Solara: only :mod:`vcm_sim.app.page` does.
"""
