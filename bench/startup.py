"""Program start-up under mocks against importing the provider SDKs it needs.

    .venv/bin/python bench/startup.py [--runs 5]

Each measurement is a fresh interpreter: (a) `import pulumi, pulumi_cloudflare, pulumi_github`;
(b) the same imports plus one run of __main__.py under the test mocks (config validated from
Pulumi.yaml's schema, desired state, adoption plan, every resource registered), alternated.
Prints the fastest and the median of each and their ratios; the bar is 1.05 on the fastest
runs (the least disturbed by other work): the program's own work within 5% of the imports.

Both sides are measured from compiled bytecode, as a second `pulumi preview` or `up` runs: pip
compiled the SDKs' when it installed them, and the children here may write the program's
(PYTHONDONTWRITEBYTECODE, if set, is dropped for them), which one untimed run of each snippet
does before the timed ones. Otherwise every run would compile the program's modules from
source again, about 35 ms that only a first run after a change pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = "import pulumi, pulumi_cloudflare, pulumi_github"
PROGRAM = (
    IMPORTS + "\nimport os\nos.environ['NETLIFY_AUTH_TOKEN'] = 'x'\n"
    "from tests.pulumi_mocks import run_program\n"
    "run_program({'domain': 'example.com', 'tlsRpt': ['mailto:tls@example.com']})\n"
)
TARGET = 1.05
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=CHILD_ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for code in (IMPORTS, PROGRAM):  # untimed: writes the program's bytecode, warms the file cache
        seconds(code)
    pairs = [(seconds(IMPORTS), seconds(PROGRAM)) for _ in range(runs)]  # alternated: same machine load
    imports = [a for a, _ in pairs]
    program = [b for _, b in pairs]
    for label, times in (("import the provider SDKs", imports), ("program under mocks     ", program)):
        print(f"{label}: {min(times):.3f} s fastest, {statistics.median(times):.3f} s median of {runs}")
    # The fastest run of each is the least disturbed by other work on the machine (as timeit's
    # documentation advises); the medians' ratio is printed beside it.
    ratio = min(program) / min(imports)
    print(
        f"ratio:                    {ratio:.3f} (target: at most {TARGET:g}); "
        f"of the medians {statistics.median(program) / statistics.median(imports):.3f}"
    )


if __name__ == "__main__":
    main()
