"""The asyncio loop of a worker process, in a thread of its own, where HTTP attempts are sent
over keep-alive connections: a job hands it a batch of attempts, sent OPTINTEL_CONCURRENCY at a
time, and waits for them as for a thread pool's. An attempt still waiting for its turn can be
cancelled, and then sends nothing; once begun it runs to its end."""
import asyncio
import os
import threading
from collections import deque
from concurrent.futures import Future

# The loop of this process (its pid) and the tasks under way (the loop keeps only weak
# references to them).
_state = {"pid": None, "loop": None, "tasks": set()}
_lock = threading.Lock()


def loop():
    """This process's loop, started on first use (after a fork, anew)."""
    with _lock:
        if _state["pid"] != os.getpid():
            ready = asyncio.new_event_loop()
            threading.Thread(target=ready.run_forever, daemon=True, name="sending-loop").start()
            _state.update(pid=os.getpid(), loop=ready, tasks=set())
        return _state["loop"]


def run(coroutine):
    """Run a coroutine on the loop from another thread and return its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop()).result()


def submit(concurrency, calls):
    """Run `await function(*args)` for each (function, args) of `calls` on the loop, in order,
    `concurrency` at a time; their concurrent.futures.Futures, each of which cancel() stops
    while it waits for its turn. One wake-up of the loop for them all."""
    waiting = deque((Future(), function, args) for function, args in calls)
    futures = [future for future, _, _ in waiting]
    if waiting:
        loop().call_soon_threadsafe(_start, min(concurrency, len(waiting)), waiting)
    return futures


def _start(senders, waiting):
    tasks, create = _state["tasks"], asyncio.get_running_loop().create_task
    for _ in range(senders):
        task = create(_work_off(waiting))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def _work_off(waiting):
    while waiting:
        future, function, args = waiting.popleft()
        # False when it was cancelled while it waited: then it sends nothing.
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(await function(*args))
        except BaseException as exc:  # noqa: BLE001 — handed to whoever waits on the future
            future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
