"""The function bench/engines.py runs on Dask, raw and as Tethys' DASK jobs."""
import time


def stamp(seconds):
    """(when it started, when it ended), by this machine's clock."""
    started = time.time()
    time.sleep(seconds)
    return started, time.time()
