"""Test support: paths, fixture manifests and oracles, export read-back helpers (no tests here).

``tests/`` is on ``sys.path`` (``[tool.pytest.ini_options] pythonpath``), so tests import
``support.paths``, ``support.fixtures`` and ``support.exporting`` directly.
"""
