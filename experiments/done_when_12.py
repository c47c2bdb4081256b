"""Issue 12 done-when figures on the baseline, seeds 0-9 (work in progress: `python experiments/done_when_12.py`)."""
import numpy as np
from vcm_sim import VCMModel, load_scenario
from vcm_sim.metrics import developer_profits_usd
rows = []
for seed in range(10):
    m = VCMModel(load_scenario("baseline"), rng=seed).run()
    s = m.summary(); r = m.results()
    stock_years = r["inventory_months"].iloc[-1] / 12
    rows.append((np.median(developer_profits_usd(m)), stock_years, s["max_drawdown"],
                 s["price_volatility"], s["abs_returns_acf_12"] if "abs_returns_acf_12" in s else np.nan,
                 s["greenwashing_index"], s["developer_entries"], s["developer_exits"],
                 s["projects_abandoned"], s["pledged_firms_final"], r.price_index_usd.iloc[-1]))
a = np.array(rows)
names = ["median dev profit USD", "final stock years of sales", "max drawdown", "volatility",
         "abs_returns_acf_12", "greenwashing", "entries", "exits", "abandoned", "pledged end", "final index"]
for i, n in enumerate(names):
    print(f"{n:28s} median {np.median(a[:, i]):12.4g}  range {a[:, i].min():.4g} .. {a[:, i].max():.4g}")
