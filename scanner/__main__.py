"""`python -m scanner` is the same program as `wormsign`."""

from scanner.cli import main

if __name__ == "__main__":
    main()
