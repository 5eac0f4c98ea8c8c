"""Poll aria2's own counters until they reach a goal; print when (``time.monotonic``).

Run as a separate process by ``test_bench_drop.py``:
``python count_probe.py PORT SECRET GOAL``. It connects and prints
``ready``, waits for a line on stdin (the drop is about to happen: no
polling load before it, while the bench measures its idle floor), then
polls and prints the monotonic time (shared by all processes on the
machine) at which ``numActive + numWaiting + numStoppedTotal`` reached
``GOAL``, and exits.

A process of its own, not a thread of the app's: polling every 2 ms with
``requests`` in the app's process held its GIL a third of the time, and the
GUI thread stalled waiting for it; the app itself never does that.
"""

from __future__ import annotations

import http.client
import json
import sys
import time


def main() -> None:
    port, secret, goal = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "aria2.getGlobalStat", "params": [f"token:{secret}"]}
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.connect()
    print("ready", flush=True)
    sys.stdin.readline()
    while True:
        connection.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        stat = json.loads(connection.getresponse().read())["result"]
        total = sum(int(stat[k]) for k in ("numActive", "numWaiting", "numStoppedTotal"))
        if total >= goal:
            print(f"{time.monotonic():.6f}", flush=True)
            return
        time.sleep(0.002)


if __name__ == "__main__":
    main()
