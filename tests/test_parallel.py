"""The one task runner: in this process, on a local process pool, on any executor."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ecgkit.errors import EcgkitError
from ecgkit.parallel import WORKER_DIED, run_tasks


def square(x: int) -> int:
    """A task: the item squared (items that are 2 raise)."""
    if x == 2:
        raise ValueError(f"bad item {x}")
    return x * x


def die_on_3_and_once_on_1(x: int, folder: str) -> int:
    """A task whose worker process dies: always on 3 (after a while), the first time on 1."""
    if x == 3:
        time.sleep(0.5)  # 1 dies first: its death is not caused by 3's
        os._exit(1)
    marker = Path(folder) / "died-once"
    if x == 1 and not marker.exists():
        marker.touch()
        os._exit(1)
    return x * 10


def outcomes(**kw) -> list[tuple[int, int | None, str]]:
    return [(o.index, o.value, o.error) for o in run_tasks(square, range(6), **kw)]


@pytest.mark.slow
def test_in_process_and_two_workers_give_the_same_results_in_order():
    expected = [
        (i, None if i == 2 else i * i, "ValueError: bad item 2" if i == 2 else "") for i in range(6)
    ]
    assert outcomes(workers=1) == expected
    assert outcomes(workers=2, ordered=True) == expected
    assert sorted(outcomes(workers=2)) == expected  # as they complete: each once
    with ThreadPoolExecutor(3) as ex:
        assert outcomes(workers=3, executor=ex, ordered=True) == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_a_raised_exception_is_reported_for_its_item_only(workers):
    got = list(run_tasks(square, [1, 2, 3], workers=workers))
    bad = [o for o in got if not o.ok]
    assert len(got) == 3 and len(bad) == 1
    assert bad[0].item == 2 and bad[0].value is None
    assert bad[0].error == "ValueError: bad item 2"
    assert isinstance(bad[0].exception, ValueError)  # for callers that re-raise it


@pytest.mark.slow
def test_a_task_that_kills_its_worker_is_reported_and_the_others_finish(tmp_path):
    got = list(
        run_tasks(die_on_3_and_once_on_1, range(6), args=(str(tmp_path),), workers=2, ordered=True)
    )
    assert (tmp_path / "died-once").exists()  # 1's worker died once: 1 was run again
    assert [o.index for o in got] == list(range(6))
    assert [o.value for o in got] == [0, 10, 20, None, 40, 50]
    assert [o.error for o in got] == ["", "", "", WORKER_DIED, "", ""]
    assert got[3].exception is None


def test_the_tasks_in_flight_are_bounded():
    running, most = [0], [0]
    lock = threading.Lock()

    def task(x: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return x

    with ThreadPoolExecutor(8) as ex:
        got = list(run_tasks(task, range(20), executor=ex, workers=8, in_flight=2, ordered=True))
    assert [o.value for o in got] == list(range(20))
    assert most[0] <= 2


def test_no_workers_is_a_user_error():
    with pytest.raises(EcgkitError, match="workers"):
        run_tasks(square, [1], workers=0)
