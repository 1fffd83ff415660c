"""Data Nexus benchmarks: our storage paths measured against baselines in the same run.

Run them with ``python benchmarks/run.py [--quick]`` (see ``docs/benchmarks.md``).
"""
