"""`python -m reported_claims`: the same command line as `reported-claims`."""

from reported_claims.cli import main

if __name__ == "__main__":
    main(prog_name="reported-claims")
