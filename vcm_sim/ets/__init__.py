"""A compliance emissions trading system (ETS) inside a market: covered firms, their
allowances, the allowance market, and offsets within a cap (see :mod:`vcm_sim.ets.system`).

China's CCER is "a supplementary mechanism to the compliance carbon market": covered firms
short of allowances may surrender certified credits for up to 5% of their obligation. Here a
market's ``[ets]`` settings add such a system beside its voluntary buyers; the allowance price
and the credits' price form together, in the covered firms' choices.
"""
