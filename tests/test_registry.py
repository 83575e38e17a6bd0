"""The registries fill themselves on first look-up, also when several threads look up at once."""

import sys
import threading

from pdesuite.registry import Registry


def test_threads_never_see_a_half_filled_registry(tmp_path, monkeypatch):
    registry = Registry("thing", ["slow_things"])
    (tmp_path / "slow_things.py").write_text(
        "import time\nfrom test_registry_target import REGISTRY\ntime.sleep(0.3)\n"
        "REGISTRY.register('a')(1)\nREGISTRY.register('b')(2)\n")
    target = type(sys)("test_registry_target")
    target.REGISTRY = registry
    monkeypatch.setitem(sys.modules, "test_registry_target", target)
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(registry.names())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [["a", "b"]] * 4
