"""Entry point of the frozen app: the same `main()` as the `ohvault` console script."""

import sys

if __name__ == "__main__":
    if sys.argv[1:] == ["--ohvault-pdf-reader"]:  # ohvault.labs.sandbox.CHILD_FLAG
        # The app re-run as the child process that reads one untrusted PDF (labs/sandbox.py).
        from ohvault.labs.sandbox import child_main

        child_main()
        raise SystemExit(0)
    from ohvault.cli.main import main

    raise SystemExit(main())
