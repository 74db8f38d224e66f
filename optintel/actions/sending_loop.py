"""The asyncio loop of a worker process, in a thread of its own, where HTTP attempts are sent
over keep-alive connections: a job hands it a batch of attempts, at most OPTINTEL_CONCURRENCY of
them under way at once, and waits for them as for a thread pool's. An attempt still waiting for
its turn can be cancelled, and then sends nothing; once begun it runs to its end."""
import asyncio
import os
import threading
from concurrent.futures import Future

# The loop of this process (its pid), its semaphores by concurrency, and the tasks under way
# (the loop keeps only weak references to them).
_state = {"pid": None, "loop": None, "slots": {}, "tasks": set()}
_lock = threading.Lock()


def loop():
    """This process's loop, started on first use (after a fork, anew)."""
    with _lock:
        if _state["pid"] != os.getpid():
            ready = asyncio.new_event_loop()
            threading.Thread(target=ready.run_forever, daemon=True, name="sending-loop").start()
            _state.update(pid=os.getpid(), loop=ready, slots={}, tasks=set())
        return _state["loop"]


def run(coroutine):
    """Run a coroutine on the loop from another thread and return its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop()).result()


def submit(concurrency, function, *args):
    """Run `await function(*args)` on the loop once one of `concurrency` slots is free; a
    concurrent.futures.Future of its result, which cancel() stops while it waits for a slot."""
    future = Future()
    loop().call_soon_threadsafe(_start, _when_free(concurrency, future, function, args))
    return future


def _start(coroutine):
    task = asyncio.get_running_loop().create_task(coroutine)
    _state["tasks"].add(task)
    task.add_done_callback(_state["tasks"].discard)


async def _when_free(concurrency, future, function, args):
    slots = _state["slots"].get(concurrency)
    if slots is None:
        slots = _state["slots"][concurrency] = asyncio.Semaphore(concurrency)
    async with slots:
        # False when it was cancelled while it waited: then it sends nothing.
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(await function(*args))
        except BaseException as exc:  # noqa: BLE001 — handed to whoever waits on the future
            future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
