"""Many threads logging into one run lose nothing, and no row mixes the values of two threads."""

from __future__ import annotations

import threading
from pathlib import Path

import quill
from conftest import read_metrics


def test_many_threads_log_into_one_run(home: Path) -> None:
    threads, per_thread = 8, 3000
    run = quill.init(project="threads", home=home)
    barrier = threading.Barrier(threads)
    failures: list = []

    def work(number: int) -> None:
        try:
            barrier.wait()
            for index in range(per_thread):
                # The same key set in every thread: each thread must fill its own values array.
                run.log({"thread": number, "index": index, "check": number * 1_000_000 + index},
                        step=number * per_thread + index)
                if index % 500 == 0:
                    run.log({f"t{number}/extra": float(index)})
                    run.set_tag(f"t{number}", str(index))
        except BaseException as error:  # reported below
            failures.append(error)

    workers = [threading.Thread(target=work, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    run.finish()
    assert not failures, failures
    rows = read_metrics(run.dir)
    main = [row for row in rows if "thread" in row]
    assert len(main) == threads * per_thread
    assert len(rows) == threads * per_thread + threads * (per_thread // 500)
    assert [row["_idx"] for row in rows] == list(range(len(rows)))
    seen = set()
    for row in main:
        number, index = int(row["thread"]), int(row["index"])
        assert row["check"] == number * 1_000_000 + index, row  # values from one call, never mixed
        assert row["step"] == number * per_thread + index, row
        seen.add((number, index))
    assert len(seen) == threads * per_thread
    for number in range(threads):  # each thread's rows are in its own order
        indexes = [int(row["index"]) for row in main if row["thread"] == number]
        assert indexes == list(range(per_thread))
