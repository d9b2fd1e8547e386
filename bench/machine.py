"""The machine a run measured on: cores, memory, processor, software versions, and how busy it was."""

import os
import platform
from importlib import metadata

import psutil


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict:
    load = os.getloadavg()
    return {
        "cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_GiB": round(psutil.virtual_memory().total / 2**30, 1),
        "processor": _cpu_model(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
        "django": metadata.version("django"),
        "gunicorn": metadata.version("gunicorn"),
        "locust": metadata.version("locust"),
        # Other work on the machine skews every figure: its load when the run began says how much.
        "load_average_at_start": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)",
    }
