"""Shuttle's benchmark suite: ``python -m benchmarks [--quick] [--json PATH] [--only NAME,...]``.

Every network benchmark runs the server under test (the relay, or the bare forwarder that is
its baseline) in its own subprocess (:mod:`benchmarks._server`) and drives it from a load
generator in another process (:mod:`benchmarks.loadgen`, spawned), over loopback only. See
``docs/performance.md`` for what each figure means and the targets it is judged against.
"""
