"""`python -m scanner` is the same program as `wormsign`."""

import os
import sys

# `python -m` puts the current directory first on sys.path. Started inside a scanned
# checkout, the next imports would then run the checkout's click.py, rich.py,
# packaging/ ... instead of ours. Drop that entry before importing anything else.
# (`scanner` itself is already imported by now; `python -P -m scanner` or the `wormsign`
# command never put the directory there.)
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from scanner.cli import main  # only after sys.path is safe

if __name__ == "__main__":
    main()
