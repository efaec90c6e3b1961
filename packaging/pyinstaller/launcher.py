"""Entry point of the frozen app: the same `main()` as the `ohvault` console script."""

from ohvault.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
