"""MultiEncoder: encode frames on a thread pool, output them in order from an output thread."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .encoder import Encoder

if TYPE_CHECKING:
    from ..outputs import Output
    from ..request import CompletedRequest


class MultiEncoder(Encoder):
    def __init__(self, num_threads: int = 4) -> None:
        super().__init__()
        self.threads = ThreadPoolExecutor(num_threads)
        self.tasks: queue.Queue[Future[tuple[bytes, int]] | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def _send_streams(self, output: Output) -> None:
        pass

    def _start(self) -> None:
        self.thread = threading.Thread(target=self.output_thread, daemon=True)
        self.thread.start()

    def _stop(self) -> None:
        self.tasks.put(None)
        if self.thread is not None:
            self.thread.join()

    def output_thread(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            buffer, timestamp_us = task.result()
            if self.output:
                self.outputframe(buffer, timestamp=timestamp_us)

    def do_encode(self, request: CompletedRequest, stream: Any) -> tuple[bytes, int]:
        timestamp_us = self._timestamp(request)
        try:
            return (self.encode_func(request, stream), timestamp_us)
        finally:
            request.release()

    def _encode(self, stream: Any, request: CompletedRequest) -> None:
        if self._running:
            request.acquire()
            self.tasks.put(self.threads.submit(self.do_encode, request, stream))

    def encode_func(self, request: CompletedRequest, name: Any) -> bytes:
        return b""
