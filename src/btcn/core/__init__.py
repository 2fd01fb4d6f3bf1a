"""The pure decision core: no I/O, no clock, no environment.

Everything here is a deterministic function of its arguments. ``btcn plan`` and the backtester both
call :func:`btcn.core.planner.decide`; the backtester additionally evaluates the trigger condition
over whole windows with the same array-capable functions from :mod:`btcn.core.valuation` and
:mod:`btcn.core.threshold`.
"""
